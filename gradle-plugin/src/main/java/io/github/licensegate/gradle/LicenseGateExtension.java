package io.github.licensegate.gradle;

import org.gradle.api.Project;

import java.io.File;

/**
 * The {@code licenseGate { }} block. File-valued settings take anything {@code project.file()} takes.
 * Plain bean properties rather than {@code Property<T>}: they read and assign the same way in the
 * Groovy and Kotlin DSLs on every Gradle version the plugin supports; tasks read them lazily.
 */
public class LicenseGateExtension {
    private final Project project;
    private String executable = LicenseGateExecutable.DEFAULT_NAME;
    private Object artifact;
    private Object policy;
    private Object reportsDir;
    private Object noticesDir;
    private Object syncNoticesTo;
    private boolean failOnViolation = true;

    public LicenseGateExtension(Project project) {
        // Used only at configuration time, to resolve file notations against the project directory.
        this.project = project;
    }

    /** The licensegate command: a bare name looked up on PATH (default {@code licensegate}) or a path. */
    public String getExecutable() {
        return executable;
    }

    public void setExecutable(Object executable) {
        this.executable = executable == null ? null
                : executable instanceof File ? ((File) executable).getAbsolutePath() : String.valueOf(executable);
    }

    /** Manual mode: the APK, AAB or IPA (or .app folder) the {@code licenseGate} task scans. */
    public Object getArtifact() {
        return artifact;
    }

    public void setArtifact(Object artifact) {
        this.artifact = artifact;
    }

    /** A licensegate policy file (TOML); unset means licensegate's built-in default policy. */
    public Object getPolicy() {
        return policy;
    }

    public void setPolicy(Object policy) {
        this.policy = policy;
    }

    /** Where JSON and SARIF reports go; default {@code build/reports/licensegate}. Variant tasks use a subfolder. */
    public Object getReportsDir() {
        return reportsDir;
    }

    public void setReportsDir(Object reportsDir) {
        this.reportsDir = reportsDir;
    }

    /**
     * Where THIRD_PARTY_NOTICES.txt/.html and SOURCE_OFFER.txt go; default {@code <reportsDir>/notices}.
     * Variant tasks use a subfolder named after the variant.
     */
    public Object getNoticesDir() {
        return noticesDir;
    }

    public void setNoticesDir(Object noticesDir) {
        this.noticesDir = noticesDir;
    }

    /**
     * Notices in the shipped app, second-pass style: a folder packaged into the app (for example
     * {@code src/main/assets/licenses}). After each scan the fresh notices are compared with it; when they
     * differ they are copied in and the build fails, because the artifact just built ships stale notices.
     */
    public Object getSyncNoticesTo() {
        return syncNoticesTo;
    }

    public void setSyncNoticesTo(Object syncNoticesTo) {
        this.syncNoticesTo = syncNoticesTo;
    }

    /** Fail the build on a policy violation (default); false only logs it. */
    public boolean isFailOnViolation() {
        return failOnViolation;
    }

    public void setFailOnViolation(boolean failOnViolation) {
        this.failOnViolation = failOnViolation;
    }

    File resolveReportsDir() {
        return reportsDir != null ? project.file(reportsDir) : new File(project.getBuildDir(), "reports/licensegate");
    }

    File resolveNoticesDir() {
        return noticesDir != null ? project.file(noticesDir) : new File(resolveReportsDir(), "notices");
    }

    File resolveSyncNoticesTo() {
        return syncNoticesTo == null ? null : project.file(syncNoticesTo);
    }
}
