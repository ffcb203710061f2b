package io.github.licensegate.gradle;

import org.gradle.api.DefaultTask;
import org.gradle.api.GradleException;
import org.gradle.api.Project;
import org.gradle.api.file.ConfigurableFileCollection;
import org.gradle.api.file.FileCollection;
import org.gradle.api.provider.Provider;
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
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Runs {@code licensegate scan} on one build artifact and turns its exit code and JSON report into a
 * Gradle result. Every value is captured at configuration time (files, providers); the action touches
 * neither {@code getProject()} nor {@code Project.exec}, so it suits the configuration cache.
 */
public class LicenseGateTask extends DefaultTask {
    private final ConfigurableFileCollection artifacts;
    private final ConfigurableFileCollection fallbackArtifacts;
    private final ConfigurableFileCollection policy;
    private final File workingDir;
    private Provider<String> executable;
    private Provider<File> reportsDir;
    private Provider<File> noticesDir;
    private Provider<File> syncNoticesTo;
    private Provider<Boolean> failOnViolation;
    private String artifactExtension;
    private String subject = "the configured artifact";

    public LicenseGateTask() {
        Project project = getProject();
        artifacts = project.files();
        fallbackArtifacts = project.files();
        policy = project.files();
        workingDir = project.getRootDir();
        executable = project.provider(() -> LicenseGateExecutable.DEFAULT_NAME);
        File defaultReports = new File(project.getBuildDir(), "reports/licensegate");
        reportsDir = project.provider(() -> defaultReports);
        noticesDir = project.provider(() -> new File(defaultReports, "notices"));
        syncNoticesTo = project.provider(() -> null);
        failOnViolation = project.provider(() -> Boolean.TRUE);
        // The verdict also depends on the licensegate version and its signature data, which Gradle cannot
        // see; a scan takes seconds, so the gate always runs rather than risk a stale pass.
        getOutputs().upToDateWhen(task -> false);
    }

    // ---- inputs and outputs -------------------------------------------------------------------------

    /** What to scan: files, or folders searched for files ending in {@link #getArtifactExtension()}. */
    @InputFiles
    @PathSensitive(PathSensitivity.NAME_ONLY)
    public ConfigurableFileCollection getArtifacts() {
        return artifacts;
    }

    /** Searched only when {@link #getArtifacts()} yields nothing (conventional AGP output folders). */
    @InputFiles
    @PathSensitive(PathSensitivity.NAME_ONLY)
    public ConfigurableFileCollection getFallbackArtifacts() {
        return fallbackArtifacts;
    }

    @InputFiles
    @PathSensitive(PathSensitivity.NONE)
    public ConfigurableFileCollection getPolicy() {
        return policy;
    }

    @Input
    public String getExecutable() {
        return executable.get();
    }

    @Input
    public boolean isFailOnViolation() {
        return failOnViolation.get();
    }

    /** {@code apk} or {@code aab} for variant tasks; unset passes the configured artifact as it is. */
    @Input
    @Optional
    public String getArtifactExtension() {
        return artifactExtension;
    }

    @OutputDirectory
    public File getReportsDir() {
        return reportsDir.get();
    }

    @OutputDirectory
    public File getNoticesDir() {
        return noticesDir.get();
    }

    /** Written when notices are stale; not an output, since it is a source folder of the app. */
    @Internal
    public File getSyncNoticesTo() {
        return syncNoticesTo.getOrNull();
    }

    @Internal
    public String getSubject() {
        return subject;
    }

    // ---- DSL setters (for tasks users register themselves) ------------------------------------------

    public void setArtifact(Object artifact) {
        artifacts.setFrom(artifact);
    }

    public void setPolicy(Object policyFile) {
        policy.setFrom(policyFile);
    }

    public void setExecutable(Object value) {
        String name = value instanceof File ? ((File) value).getAbsolutePath() : String.valueOf(value);
        executable = getProject().provider(() -> name);
    }

    public void setReportsDir(Object dir) {
        File file = getProject().file(dir);
        reportsDir = getProject().provider(() -> file);
    }

    public void setNoticesDir(Object dir) {
        File file = getProject().file(dir);
        noticesDir = getProject().provider(() -> file);
    }

    public void setSyncNoticesTo(Object dir) {
        File file = dir == null ? null : getProject().file(dir);
        syncNoticesTo = getProject().provider(() -> file);
    }

    public void setFailOnViolation(boolean fail) {
        failOnViolation = getProject().provider(() -> fail);
    }

    public void setArtifactExtension(String extension) {
        artifactExtension = extension;
    }

    public void setSubject(String subject) {
        this.subject = subject;
    }

    /** Reads every setting from the extension lazily; {@code subfolder} separates variants' outputs. */
    void configureFrom(LicenseGateExtension extension, String subfolder) {
        Project project = getProject();
        executable = project.provider(() -> {
            String name = extension.getExecutable();
            return name == null ? LicenseGateExecutable.DEFAULT_NAME : name;
        });
        policy.setFrom((Callable<Object>) extension::getPolicy);
        reportsDir = project.provider(() -> under(extension.resolveReportsDir(), subfolder));
        noticesDir = project.provider(() -> under(extension.resolveNoticesDir(), subfolder));
        syncNoticesTo = project.provider(extension::resolveSyncNoticesTo);
        failOnViolation = project.provider(extension::isFailOnViolation);
    }

    private static File under(File dir, String subfolder) {
        return subfolder == null ? dir : new File(dir, subfolder);
    }

    // ---- the gate -----------------------------------------------------------------------------------

    @TaskAction
    public void gate() {
        LicenseGateExecutable cli = LicenseGateExecutable.locate(getExecutable());
        List<File> targets = resolveTargets();
        boolean multiReport = cli.supportsReportOption(workingDir);
        File reports = getReportsDir();
        File notices = getNoticesDir();
        File policyFile = policy.isEmpty() ? null : policy.getSingleFile();

        List<String> violations = new ArrayList<>();
        for (File target : targets) {
            String stem = targets.size() == 1 ? "licensegate" : "licensegate-" + baseName(target);
            File json = new File(reports, stem + ".json");
            File sarif = new File(reports, stem + ".sarif");
            File noticesFor = targets.size() == 1 ? notices : new File(notices, baseName(target));
            // A report left by an earlier run must never be mistaken for this run's.
            delete(json);
            delete(sarif);

            List<String> command = new ArrayList<>(Arrays.asList(
                    cli.path.getAbsolutePath(), "scan", target.getAbsolutePath(),
                    "--format", "json", "--output", json.getAbsolutePath(),
                    "--notices", noticesFor.getAbsolutePath()));
            if (policyFile != null) {
                command.add("--policy");
                command.add(policyFile.getAbsolutePath());
            }
            if (multiReport) {
                command.add("--report");
                command.add("sarif=" + sarif.getAbsolutePath());
            }
            Deque<String> tail = new ArrayDeque<>();
            int exit = run(command, tail);
            switch (exit) {
                case 0:
                    reportPass(target, json);
                    break;
                case 1:
                    violations.add(describeViolation(target, json, noticesFor));
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
        if (getSyncNoticesTo() != null) {
            if (targets.size() == 1) {
                staleNotices = syncNotices(notices);
            } else {
                getLogger().warn("LicenseGate: {} produced {} artifacts; syncNoticesTo needs exactly one, so it was skipped.",
                        subject, targets.size());
            }
        }

        if (!violations.isEmpty()) {
            String message = String.join("\n", violations);
            if (isFailOnViolation()) {
                throw new GradleException(staleNotices == null ? message : message + "\n" + staleNotices);
            }
            getLogger().warn(message + "\n(failOnViolation = false: the build goes on.)");
        }
        if (staleNotices != null) {
            throw new GradleException(staleNotices);
        }
    }

    private List<File> resolveTargets() {
        List<File> found = expand(artifacts);
        if (found.isEmpty()) {
            found = expand(fallbackArtifacts);
        }
        if (!found.isEmpty()) {
            return found;
        }
        if (artifactExtension == null) {
            if (artifacts.isEmpty()) {
                throw new GradleException("LicenseGate: no artifact to scan. Set one with licenseGate { artifact = file('app-release.apk') }"
                        + " (an APK, AAB or IPA), or run a variant task such as licenseGateRelease in an Android application project.");
            }
            throw new GradleException("LicenseGate: the artifact " + artifacts.getFiles() + " does not exist. Build it first.");
        }
        List<File> searched = new ArrayList<>(artifacts.getFiles());
        searched.addAll(fallbackArtifacts.getFiles());
        throw new GradleException("LicenseGate: no ." + artifactExtension + " found for " + subject + " in " + searched
                + ". If this Android Gradle Plugin puts it elsewhere, register a LicenseGateTask with artifact = <the file>.");
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

    private String describeViolation(File target, File json, File noticesFor) {
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
        message.append("Notices and source offer: ").append(noticesFor.getAbsolutePath());
        return message.toString();
    }

    /** Copies changed notices into {@link #getSyncNoticesTo()}; returns the failure message if any changed. */
    private String syncNotices(File notices) {
        File destination = getSyncNoticesTo();
        if (destination == null) {
            return null;
        }
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
