package io.github.licensegate.gradle;

import org.gradle.api.GradleException;
import org.gradle.api.file.Directory;
import org.gradle.api.file.DirectoryProperty;
import org.gradle.api.provider.Property;
import org.gradle.api.tasks.InputFiles;
import org.gradle.api.tasks.Internal;
import org.gradle.api.tasks.OutputDirectory;
import org.gradle.api.tasks.PathSensitive;
import org.gradle.api.tasks.PathSensitivity;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * The gate on a variant's {@code SingleArtifact.APK}, wired as AGP's transform recipe wires one:
 * {@code artifacts.use(task).wiredWithDirectories(apkFolder, outFolder).toTransformMany(SingleArtifact.APK)}. AGP hands
 * in the packaged APK folder and gives every later consumer of the APK (assemble, install, publishing plugins) what this
 * task writes to {@code outFolder}: the same APKs, copied only once they passed. A failing gate writes nothing, so
 * nothing downstream can take an ungated APK.
 */
public class LicenseGateApkTask extends LicenseGateTask {
    private final DirectoryProperty apkFolder;
    private final DirectoryProperty outFolder;
    private final Property<Object> transformationRequest;
    private final Property<Object> builtArtifactsLoader;

    public LicenseGateApkTask() {
        apkFolder = GradleCompat.directoryProperty(getProject());
        outFolder = GradleCompat.directoryProperty(getProject());
        transformationRequest = getProject().getObjects().property(Object.class);
        builtArtifactsLoader = getProject().getObjects().property(Object.class);
        DirectoryProperty in = apkFolder;
        getArtifactFiles().from((Callable<Object>) () -> in.isPresent() ? in.get().getAsFile() : null);
        setArtifactExtension("apk");
    }

    /** The APK folder AGP hands in (with output-metadata.json). */
    @InputFiles
    @PathSensitive(PathSensitivity.NAME_ONLY)
    public DirectoryProperty getApkFolder() {
        return apkFolder;
    }

    /** The gated APK folder AGP gives to every later consumer of SingleArtifact.APK. */
    @OutputDirectory
    public DirectoryProperty getOutFolder() {
        return outFolder;
    }

    /** AGP's {@code ArtifactTransformationRequest<LicenseGateApkTask>}, typed Object so the plugin needs no AGP at compile time. */
    @Internal
    public Property<Object> getTransformationRequest() {
        return transformationRequest;
    }

    /** AGP's {@code BuiltArtifactsLoader}: reads output-metadata.json, so splits and renamed APKs are found as AGP lists them. */
    @Internal
    public Property<Object> getBuiltArtifactsLoader() {
        return builtArtifactsLoader;
    }

    @Override
    protected List<File> resolveTargets() {
        Object loader = builtArtifactsLoader.getOrNull();
        if (loader == null || !apkFolder.isPresent()) {
            return super.resolveTargets();
        }
        Directory folder = apkFolder.get();
        Method load = GradleCompat.findPublicMethodAccepting(loader.getClass(), "load", folder.getClass());
        Object builtArtifacts = load == null ? null : GradleCompat.invoke(load, loader, folder);
        if (builtArtifacts == null) {
            throw new GradleException("LicenseGate: no output-metadata.json in " + folder.getAsFile() + " for " + getSubject()
                    + ": AGP's BuiltArtifactsLoader found no APK there.");
        }
        List<File> apks = new ArrayList<>();
        for (Object element : (Collection<?>) AgpReflection.call(builtArtifacts, "getElements")) {
            apks.add(new File((String) AgpReflection.call(element, "getOutputFile")));
        }
        if (apks.isEmpty()) {
            throw new GradleException("LicenseGate: AGP's output metadata in " + folder.getAsFile() + " lists no APK for " + getSubject() + ".");
        }
        return apks;
    }

    @Override
    protected void afterGate(List<File> targets) {
        File out = outFolder.get().getAsFile();
        Object request = transformationRequest.getOrNull();
        if (request == null) {
            for (File apk : targets) {
                copy(apk, new File(out, apk.getName()));
            }
            return;
        }
        // submit(task, (BuiltArtifact) -> File): AGP calls back per APK and writes the new output metadata.
        Object transformer = AgpReflection.kotlinFunction1(request.getClass().getClassLoader(), builtArtifact -> {
            File apk = new File((String) AgpReflection.call(builtArtifact, "getOutputFile"));
            File copy = new File(out, apk.getName());
            copy(apk, copy);
            return copy;
        });
        Method submit = GradleCompat.findPublicMethodByShape(request.getClass(), "submit", 2, transformer.getClass());
        if (submit == null) {
            throw new GradleException("LicenseGate: this AGP's ArtifactTransformationRequest has no submit(task, transformer)");
        }
        GradleCompat.invoke(submit, request, this, transformer);
    }

    static void copy(File from, File to) {
        try {
            Files.createDirectories(to.getParentFile().toPath());
            Files.copy(from.toPath(), to.toPath(), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new GradleException("LicenseGate: could not hand on " + from + " as " + to + ": " + e.getMessage(), e);
        }
    }
}
