package io.github.licensegate.gradle;

import org.gradle.api.Project;
import org.gradle.api.file.Directory;
import org.gradle.api.file.DirectoryProperty;
import org.gradle.api.file.RegularFile;
import org.gradle.api.file.RegularFileProperty;
import org.gradle.api.provider.ListProperty;
import org.gradle.api.provider.Property;
import org.gradle.api.provider.Provider;

import java.io.File;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code licenseGate { }} block. Every setting is a lazy {@code Property}: the Kotlin DSL sets it with {@code =}
 * (Gradle 8.2+) or {@code .set(...)}, the Groovy DSL with {@code =} on every Gradle version from 4.4 (Gradle's
 * decoration turns the assignment into {@code set}), and the tasks read it only when they run. File settings take a
 * {@code File} ({@code file("...")}), a {@code RegularFile}/{@code Directory} or a Provider of one.
 */
public class LicenseGateExtension {
    private final Project project;
    private final Property<String> executable;
    private final RegularFileProperty artifact;
    private final RegularFileProperty policy;
    private final DirectoryProperty reportsDir;
    private final DirectoryProperty noticesDir;
    private final DirectoryProperty syncNoticesTo;
    private final Property<Boolean> failOnViolation;
    private final Property<String> failOn;
    private final ListProperty<String> failOnBuildTypes;
    private final ListProperty<String> skipVariants;
    private final Map<String, DirectoryProperty> variantSyncNoticesTo = new LinkedHashMap<>();

    public LicenseGateExtension(Project project) {
        // Kept for configuration time only: resolving file notations and creating properties.
        this.project = project;
        executable = project.getObjects().property(String.class);
        artifact = GradleCompat.fileProperty(project);
        policy = GradleCompat.fileProperty(project);
        reportsDir = GradleCompat.directoryProperty(project);
        reportsDir.set(project.getLayout().getBuildDirectory().dir("reports/licensegate"));
        noticesDir = GradleCompat.directoryProperty(project);
        noticesDir.set(reportsDir.dir("notices"));
        syncNoticesTo = GradleCompat.directoryProperty(project);
        failOnViolation = project.getObjects().property(Boolean.class);
        failOnViolation.set(Boolean.TRUE);
        failOn = project.getObjects().property(String.class);
        failOn.set("error");
        failOnBuildTypes = project.getObjects().listProperty(String.class);
        GradleCompat.setList(failOnBuildTypes, new ArrayList<>(Collections.singletonList("release")));
        skipVariants = project.getObjects().listProperty(String.class);
        GradleCompat.setList(skipVariants, new ArrayList<>());
    }

    /**
     * The licensegate command, a path or a bare name looked up on PATH. Unset (the default), the Gradle property
     * {@code licensegate.executable}, then the environment variable {@code LICENSEGATE_EXECUTABLE}, then
     * {@code licensegate} on PATH are tried, in that order.
     */
    public Property<String> getExecutable() {
        return executable;
    }


    /** Manual mode: the APK, AAB, IPA or AAR (or .app folder) the {@code licenseGate} task scans. */
    public RegularFileProperty getArtifact() {
        return artifact;
    }


    /** A licensegate policy file (TOML); unset means licensegate's own search (licensegate.toml in the root project folder, at the repository root, beside the artifact, else built in). */
    public RegularFileProperty getPolicy() {
        return policy;
    }


    /** Where the JSON and SARIF reports go; default {@code build/reports/licensegate}. Variant tasks use {@code <reportsDir>/<variant>}. */
    public DirectoryProperty getReportsDir() {
        return reportsDir;
    }


    /** Where THIRD_PARTY_NOTICES and SOURCE_OFFER.txt go; default {@code <reportsDir>/notices}, per variant {@code <noticesDir>/<variant>}. */
    public DirectoryProperty getNoticesDir() {
        return noticesDir;
    }


    /**
     * Second-pass notices for the manual {@code licenseGate} task: after each scan the fresh notices are compared with
     * this folder; when they differ they are copied in and the build fails. Variants use {@link #syncNoticesTo(String, Object)}.
     */
    public DirectoryProperty getSyncNoticesTo() {
        return syncNoticesTo;
    }


    /** Second-pass notices of one variant, e.g. {@code syncNoticesTo("release", file("src/release/assets/licenses"))}. */
    public void syncNoticesTo(String variant, Object dir) {
        variantSyncNoticesTo(variant).set(toDirectory(project, dir));
    }

    DirectoryProperty variantSyncNoticesTo(String variant) {
        return variantSyncNoticesTo.computeIfAbsent(variant, v -> GradleCompat.directoryProperty(project));
    }

    /** Master switch: false turns every violation into a warning (default true). */
    public Property<Boolean> getFailOnViolation() {
        return failOnViolation;
    }


    /** Passed to {@code licensegate scan --fail-on}: which findings are violations, {@code error} (default) or {@code warning}. */
    public Property<String> getFailOn() {
        return failOn;
    }


    /**
     * Android build types whose violations fail the build; default {@code ["release"]}. Every other variant is still
     * scanned and reported, and its violations are logged as warnings.
     */
    public ListProperty<String> getFailOnBuildTypes() {
        return failOnBuildTypes;
    }


    /** Android variants (by name, e.g. {@code "benchmarkRelease"}) that get no gate at all; default none. */
    public ListProperty<String> getSkipVariants() {
        return skipVariants;
    }


    /** Groovy: {@code skipVariants 'a', 'b'}. */
    public void skipVariants(String... names) {
        List<String> all = new ArrayList<>(skipVariants.get());
        all.addAll(Arrays.asList(names));
        GradleCompat.setList(skipVariants, all);
    }

    static Provider<Directory> toDirectory(Project project, Object value) {
        if (value instanceof Directory) {
            Directory dir = (Directory) value;
            return project.provider(() -> dir);
        }
        Directory root = project.getLayout().getProjectDirectory();
        if (value instanceof Provider) {
            Provider<?> provider = (Provider<?>) value;
            return project.provider(() -> root.dir(project.file(unwrap(provider.get())).getAbsolutePath()));
        }
        File file = project.file(value);
        return project.provider(() -> root.dir(file.getAbsolutePath()));
    }

    private static Object unwrap(Object value) {
        if (value instanceof RegularFile) {
            return ((RegularFile) value).getAsFile();
        }
        if (value instanceof Directory) {
            return ((Directory) value).getAsFile();
        }
        return value;
    }
}
