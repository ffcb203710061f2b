package io.github.licensegate.gradle;

import org.gradle.api.DefaultTask;
import org.gradle.api.GradleException;
import org.gradle.api.Project;
import org.gradle.api.file.ConfigurableFileCollection;
import org.gradle.api.file.DirectoryProperty;
import org.gradle.api.file.FileCollection;
import org.gradle.api.file.RegularFileProperty;
import org.gradle.api.provider.Property;
import org.gradle.api.tasks.CacheableTask;
import org.gradle.api.tasks.Input;
import org.gradle.api.tasks.InputFiles;
import org.gradle.api.tasks.Internal;
import org.gradle.api.tasks.Optional;
import org.gradle.api.tasks.OutputDirectory;
import org.gradle.api.tasks.PathSensitive;
import org.gradle.api.tasks.PathSensitivity;
import org.gradle.api.tasks.TaskAction;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * Runs {@code licensegate scan} on one build artifact and turns its exit code and JSON report into a Gradle result.
 *
 * <p>Incremental: the inputs are the artifact, the policy and the CLI's version ({@code licensegate --version}, read once
 * per binary per daemon), the outputs the reports and notices, so an unchanged build is UP-TO-DATE and a build cache can
 * restore a pass. A failing gate records no outputs, so it fails again on the next run. Every value lives in a Gradle
 * property or a plain field; the action never touches {@code getProject()}, as the configuration cache requires.
 */
@CacheableTask
public class LicenseGateTask extends DefaultTask {
    private final Property<String> executable;
    private final Property<String> executableFromGradleProperty;
    private final RegularFileProperty artifact;
    private final ConfigurableFileCollection artifactFiles;
    private final RegularFileProperty policy;
    private final ConfigurableFileCollection policyFiles;
    private final DirectoryProperty reportsDir;
    private final DirectoryProperty noticesDir;
    private final DirectoryProperty syncNoticesTo;
    private final Property<Boolean> failOnViolation;
    private final Property<String> failOn;
    private final File workingDir;
    private String artifactExtension;
    private String subject = "the configured artifact";

    public LicenseGateTask() {
        Project project = getProject();
        executable = project.getObjects().property(String.class);
        executableFromGradleProperty = project.getObjects().property(String.class);
        Object fromGradleProperty = project.findProperty(LicenseGateExecutable.GRADLE_PROPERTY);
        if (fromGradleProperty != null) {
            executableFromGradleProperty.set(String.valueOf(fromGradleProperty));
        }
        artifact = GradleCompat.fileProperty(project);
        artifactFiles = project.files();
        RegularFileProperty manualArtifact = artifact;
        artifactFiles.from((Callable<Object>) () -> manualArtifact.isPresent() ? manualArtifact.get().getAsFile() : null);
        policy = GradleCompat.fileProperty(project);
        policyFiles = project.files();
        RegularFileProperty policyFile = policy;
        ConfigurableFileCollection scanned = artifactFiles;
        File rootDir = project.getRootDir();
        policyFiles.from((Callable<Object>) () -> policyFiles(policyFile, scanned, rootDir));
        reportsDir = GradleCompat.directoryProperty(project);
        reportsDir.set(project.getLayout().getBuildDirectory().dir("reports/licensegate"));
        noticesDir = GradleCompat.directoryProperty(project);
        noticesDir.set(reportsDir.dir("notices"));
        syncNoticesTo = GradleCompat.directoryProperty(project);
        failOnViolation = project.getObjects().property(Boolean.class);
        failOnViolation.set(Boolean.TRUE);
        failOn = project.getObjects().property(String.class);
        failOn.set("error");
        workingDir = project.getRootDir();
        // Syncing notices writes into the app's sources, a side effect a cache hit would skip.
        DirectoryProperty sync = syncNoticesTo;
        getOutputs().cacheIf(task -> !sync.isPresent());
    }

    // ---- inputs and outputs -------------------------------------------------------------------------

    /** Manual mode: the file (or .app folder) to scan. */
    @Internal("tracked through artifactFiles")
    public RegularFileProperty getArtifact() {
        return artifact;
    }

    /** What is scanned: files, or folders searched for files ending in {@link #getArtifactExtension()}. */
    @InputFiles
    @PathSensitive(PathSensitivity.NAME_ONLY)
    public ConfigurableFileCollection getArtifactFiles() {
        return artifactFiles;
    }

    @Internal("tracked through policyFiles")
    public RegularFileProperty getPolicy() {
        return policy;
    }

    /** The policy file, or when none is set every licensegate.toml the CLI would look for (docs/policy.md). */
    @InputFiles
    @PathSensitive(PathSensitivity.NONE)
    public FileCollection getPolicyFiles() {
        return policyFiles;
    }

    private static List<File> policyFiles(RegularFileProperty policy, FileCollection artifacts, File workingDir) {
        if (policy.isPresent()) {
            return Collections.singletonList(policy.get().getAsFile());
        }
        // The CLI runs in workingDir and looks for licensegate.toml there, at the repository root (the nearest folder
        // holding .git, never followed), then beside the artifact: each is an input, so editing any reruns the gate.
        Set<File> candidates = new LinkedHashSet<>();
        candidates.add(new File(workingDir, "licensegate.toml"));
        for (File dir = workingDir.getAbsoluteFile(); dir != null; dir = dir.getParentFile()) {
            if (Files.exists(new File(dir, ".git").toPath(), LinkOption.NOFOLLOW_LINKS)) {
                candidates.add(new File(dir, "licensegate.toml"));
                break;
            }
        }
        for (File file : artifacts.getFiles()) {
            candidates.add(new File(file.isDirectory() ? file : file.getParentFile(), "licensegate.toml"));
        }
        return new ArrayList<>(candidates);
    }

    /** The licensegate command; unset: Gradle property licensegate.executable, then LICENSEGATE_EXECUTABLE, then PATH. */
    @Internal("the CLI's version is the input, not where it is installed")
    public Property<String> getExecutable() {
        return executable;
    }

    /** The Gradle property {@code licensegate.executable}, read at configuration time. */
    @Internal
    public Property<String> getExecutableFromGradleProperty() {
        return executableFromGradleProperty;
    }

    /**
     * {@code licensegate X.Y.Z} as the CLI reports it: a new CLI (new signatures, new rules) reruns the gate. When the
     * CLI cannot be found this is the reason, so the task runs and fails with it.
     */
    @Input
    public String getToolVersion() {
        try {
            return locate().version();
        } catch (GradleException e) {
            return "unavailable: " + e.getMessage();
        }
    }

    @Input
    public Property<Boolean> getFailOnViolation() {
        return failOnViolation;
    }

    /** {@code licensegate scan --fail-on}: {@code error} (default) or {@code warning}. */
    @Input
    public Property<String> getFailOn() {
        return failOn;
    }

    /** {@code apk}, {@code aab} or {@code aar} for variant tasks; unset passes the configured artifact as it is. */
    @Input
    @Optional
    public String getArtifactExtension() {
        return artifactExtension;
    }

    @OutputDirectory
    public DirectoryProperty getReportsDir() {
        return reportsDir;
    }

    @OutputDirectory
    public DirectoryProperty getNoticesDir() {
        return noticesDir;
    }

    /** Written when notices are stale; not an output, since it is a source folder of the app. */
    @Internal
    public DirectoryProperty getSyncNoticesTo() {
        return syncNoticesTo;
    }

    @Internal
    public String getSubject() {
        return subject;
    }

    // ---- set by the plugin ---------------------------------------------------------------------------









    public void setArtifactExtension(String extension) {
        artifactExtension = extension;
    }

    public void setSubject(String subject) {
        this.subject = subject;
    }

    /** Reads every setting from the extension lazily; {@code subfolder} separates variants' outputs. */
    void configureFrom(LicenseGateExtension extension, String subfolder) {
        executable.set(extension.getExecutable());
        policy.set(extension.getPolicy());
        reportsDir.set(subfolder == null ? extension.getReportsDir() : extension.getReportsDir().dir(subfolder));
        noticesDir.set(subfolder == null ? extension.getNoticesDir() : extension.getNoticesDir().dir(subfolder));
        failOnViolation.set(extension.getFailOnViolation());
        failOn.set(extension.getFailOn());
    }

    private LicenseGateExecutable locate() {
        return LicenseGateExecutable.locate(executable.getOrNull(), executableFromGradleProperty.getOrNull());
    }

    // ---- the gate -----------------------------------------------------------------------------------

    @TaskAction
    public void gate() {
        LicenseGateExecutable cli = locate();
        List<File> targets = resolveTargets();
        File reports = reportsDir.get().getAsFile();
        File notices = noticesDir.get().getAsFile();
        File policyFile = policy.isPresent() ? policy.get().getAsFile() : null;
        getLogger().info("LicenseGate: {} from {}", cli.version(), cli.source);

        List<String> violations = new ArrayList<>();
        for (File target : targets) {
            String stem = targets.size() == 1 ? "licensegate" : "licensegate-" + baseName(target);
            File json = new File(reports, stem + ".json");
            File sarif = new File(reports, stem + ".sarif");
            File html = new File(reports, stem + ".html");
            File noticesFor = targets.size() == 1 ? notices : new File(notices, baseName(target));
            // A report left by an earlier run must never be mistaken for this run's.
            delete(json);
            delete(sarif);
            delete(html);

            List<String> command = new ArrayList<>(Arrays.asList(
                    cli.path.getAbsolutePath(), "scan", target.getAbsolutePath(),
                    "--report", "json=" + json.getAbsolutePath(),
                    "--report", "sarif=" + sarif.getAbsolutePath(),
                    "--report", "html=" + html.getAbsolutePath(),
                    "--notices", noticesFor.getAbsolutePath(),
                    "--fail-on", failOn.get()));
            if (policyFile != null) {
                command.add("--policy");
                command.add(policyFile.getAbsolutePath());
            }
            Deque<String> tail = new ArrayDeque<>();
            int exit = run(command, tail);
            switch (exit) {
                case 0:
                    reportPass(target, json);
                    break;
                case 1:
                    violations.add(describeViolation(target, json, html, noticesFor));
                    break;
                case 2:
                    throw new GradleException("LicenseGate: licensegate could not read its input for " + subject
                            + " (exit 2: unreadable or corrupt artifact, or bad usage such as an invalid policy file).\n"
                            + "Command: " + String.join(" ", command) + tailText(tail));
                case 3:
                    throw new GradleException("LicenseGate: licensegate failed with an internal error (exit 3) on "
                            + target + ". This is a bug in licensegate, not a verdict on the app.\n"
                            + "Command: " + String.join(" ", command) + tailText(tail));
                default:
                    throw new GradleException("LicenseGate: licensegate exited with unexpected status " + exit
                            + " on " + target + ".\nCommand: " + String.join(" ", command) + tailText(tail));
            }
        }

        String staleNotices = null;
        if (syncNoticesTo.isPresent()) {
            if (targets.size() == 1) {
                staleNotices = syncNotices(notices);
            } else {
                getLogger().warn("LicenseGate: {} produced {} artifacts; syncNoticesTo needs exactly one, so it was skipped.",
                        subject, targets.size());
            }
        }

        if (!violations.isEmpty()) {
            String message = String.join("\n", violations);
            if (failOnViolation.get()) {
                throw new GradleException(staleNotices == null ? message : message + "\n" + staleNotices);
            }
            getLogger().warn(message + "\n(This build does not fail on violations: failOnViolation = false, or the build type"
                    + " is not in failOnBuildTypes.)");
        }
        if (staleNotices != null) {
            throw new GradleException(staleNotices);
        }
        afterGate(targets);
    }

    /** What the scanned files are; variant tasks read AGP's output metadata here. */
    protected List<File> resolveTargets() {
        List<File> found = expand(artifactFiles);
        if (!found.isEmpty()) {
            return found;
        }
        if (artifactExtension == null) {
            if (artifactFiles.isEmpty()) {
                throw new GradleException("LicenseGate: no artifact to scan. Set one with licenseGate { artifact = file(\"app-release.apk\") }"
                        + " (an APK, AAB, AAR or IPA), or run a variant task such as licenseGateRelease in an Android project.");
            }
            throw new GradleException("LicenseGate: the artifact " + artifactFiles.getFiles() + " does not exist. Build it first.");
        }
        throw new GradleException("LicenseGate: no ." + artifactExtension + " found for " + subject + " in " + artifactFiles.getFiles()
                + ". If this Android Gradle Plugin puts it elsewhere, register a LicenseGateTask with artifact = <the file>.");
    }

    /** Runs after every artifact passed (or only warned): variant tasks hand the gated artifact on to AGP here. */
    protected void afterGate(List<File> targets) {
    }

    private List<File> expand(FileCollection collection) {
        Map<String, File> found = new LinkedHashMap<>();
        for (File file : collection.getFiles()) {
            if (artifactExtension == null) {
                if (file.exists()) {
                    found.put(canonical(file), file);
                }
            } else if (file.isFile()) {
                if (hasExtension(file)) {
                    found.put(canonical(file), file);
                }
            } else if (file.isDirectory()) {
                List<File> inDir = new ArrayList<>();
                collect(file, inDir);
                inDir.sort(null);
                for (File f : inDir) {
                    found.put(canonical(f), f);
                }
            }
        }
        return new ArrayList<>(found.values());
    }

    private void collect(File dir, List<File> out) {
        File[] children = dir.listFiles();
        if (children == null) {
            return;
        }
        for (File child : children) {
            if (child.isDirectory()) {
                collect(child, out);
            } else if (hasExtension(child)) {
                out.add(child);
            }
        }
    }

    private boolean hasExtension(File file) {
        return file.getName().toLowerCase(Locale.ROOT).endsWith("." + artifactExtension);
    }

    private int run(List<String> command, Deque<String> tail) {
        Process process;
        try {
            process = new ProcessBuilder(command).directory(workingDir).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new GradleException("LicenseGate: could not start " + command.get(0) + ": " + e.getMessage() + ". "
                    + LicenseGateExecutable.INSTALL_HINT, e);
        }
        try {
            process.getOutputStream().close();
            try (BufferedReader reader = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    getLogger().lifecycle(line);
                    tail.addLast(line);
                    if (tail.size() > 40) {
                        tail.removeFirst();
                    }
                }
            }
            return process.waitFor();
        } catch (IOException e) {
            process.destroyForcibly();
            throw new GradleException("LicenseGate: lost the output of " + command.get(0) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new GradleException("LicenseGate: interrupted while running licensegate", e);
        }
    }

    private void reportPass(File target, File json) {
        if (json.isFile()) {
            try {
                ScanReport report = ScanReport.read(json);
                for (ScanReport.Finding warning : report.warnings()) {
                    getLogger().warn("LicenseGate: {}: {}", warning.severity, warning.describe());
                }
            } catch (IOException e) {
                getLogger().warn("LicenseGate: could not read the report {}: {}", json, e.getMessage());
            }
        }
        getLogger().lifecycle("LicenseGate: {} passes the licence policy. Report: {}", target.getName(), json);
    }

    private String describeViolation(File target, File json, File html, File noticesFor) {
        StringBuilder message = new StringBuilder("LicenseGate: policy violation in ")
                .append(target.getName()).append(" (").append(subject).append("):\n");
        try {
            List<ScanReport.Finding> findings = ScanReport.read(json).violations();
            if (findings.isEmpty()) {
                message.append("  (licensegate exited 1 but its report lists no findings)\n");
            }
            for (ScanReport.Finding finding : findings) {
                message.append("  - ").append(finding.describe()).append('\n');
            }
        } catch (IOException e) {
            message.append("  (could not read the report: ").append(e.getMessage()).append(")\n");
        }
        message.append("Report: ").append(json.getAbsolutePath()).append('\n');
        // what a person acts on: what to do about each finding, and a [[waiver]] to paste to accept it instead
        message.append("What to do, and a [[waiver]] to paste for each: ").append(html.getAbsolutePath()).append('\n');
        message.append("Notices and source offer: ").append(noticesFor.getAbsolutePath());
        return message.toString();
    }

    /** Copies changed notices into {@link #getSyncNoticesTo()}; returns the failure message if any changed. */
    private String syncNotices(File notices) {
        File destination = syncNoticesTo.get().getAsFile();
        File[] files = notices.listFiles(File::isFile);
        if (files == null || files.length == 0) {
            return null;
        }
        Arrays.sort(files);
        List<String> changed = new ArrayList<>();
        try {
            Files.createDirectories(destination.toPath());
            for (File file : files) {
                File copy = new File(destination, file.getName());
                byte[] fresh = Files.readAllBytes(file.toPath());
                if (!copy.isFile() || !Arrays.equals(fresh, Files.readAllBytes(copy.toPath()))) {
                    Files.copy(file.toPath(), copy.toPath(), StandardCopyOption.REPLACE_EXISTING);
                    changed.add(file.getName());
                }
            }
        } catch (IOException e) {
            throw new GradleException("LicenseGate: could not update the notices in " + destination + ": " + e.getMessage(), e);
        }
        if (changed.isEmpty()) {
            getLogger().lifecycle("LicenseGate: the notices packaged from {} are current.", destination);
            return null;
        }
        return "LicenseGate: the notices packaged into " + subject + " were stale; updated " + changed + " in "
                + destination.getAbsolutePath() + ". Build again to ship them (and commit them if they are checked in).";
    }

    private static String tailText(Deque<String> tail) {
        return tail.isEmpty() ? "" : "\nLast output:\n  " + String.join("\n  ", tail);
    }

    private static String baseName(File file) {
        String name = file.getName();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    private static String canonical(File file) {
        try {
            return file.getCanonicalPath();
        } catch (IOException e) {
            return file.getAbsolutePath();
        }
    }

    private static void delete(File file) {
        try {
            Files.deleteIfExists(file.toPath());
        } catch (IOException e) {
            throw new GradleException("LicenseGate: could not remove the old report " + file + ": " + e.getMessage(), e);
        }
    }
}
