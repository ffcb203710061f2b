package io.github.licensegate.gradle;

import org.gradle.api.file.RegularFileProperty;
import org.gradle.api.tasks.InputFiles;
import org.gradle.api.tasks.OutputFile;
import org.gradle.api.tasks.PathSensitive;
import org.gradle.api.tasks.PathSensitivity;

import java.io.File;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * The gate on a variant's {@code SingleArtifact.BUNDLE} (the AAB) or {@code SingleArtifact.AAR}, wired as AGP's
 * recipes wire a file transform: {@code artifacts.use(task).wiredWithFiles(inputFile, outputFile).toTransform(...)}.
 * Every later consumer of the artifact (bundle, publishing plugins) gets {@code outputFile}, written only once the gate
 * passed; a failing gate writes nothing.
 */
public class LicenseGateArchiveTask extends LicenseGateTask {
    private final RegularFileProperty inputFile;
    private final RegularFileProperty outputFile;

    public LicenseGateArchiveTask() {
        inputFile = GradleCompat.fileProperty(getProject());
        outputFile = GradleCompat.fileProperty(getProject());
        RegularFileProperty in = inputFile;
        getArtifactFiles().from((Callable<Object>) () -> in.isPresent() ? in.get().getAsFile() : null);
    }

    /** The AAB or AAR AGP hands in. */
    @InputFiles
    @PathSensitive(PathSensitivity.NAME_ONLY)
    public RegularFileProperty getInputFile() {
        return inputFile;
    }

    /** The gated AAB or AAR AGP gives to every later consumer. */
    @OutputFile
    public RegularFileProperty getOutputFile() {
        return outputFile;
    }

    @Override
    protected void afterGate(List<File> targets) {
        LicenseGateApkTask.copy(inputFile.get().getAsFile(), outputFile.get().getAsFile());
    }
}
