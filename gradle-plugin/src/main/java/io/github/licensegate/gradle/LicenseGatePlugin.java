package io.github.licensegate.gradle;

import org.gradle.api.Plugin;
import org.gradle.api.Project;

/**
 * {@code io.github.licensegate}: adds the {@code licenseGate} extension and task, and with an Android plugin
 * ({@code com.android.application}, {@code com.android.library}, {@code com.android.dynamic-feature}) a gate per
 * variant on its APK, AAB or AAR. All judgement stays in the licensegate CLI; the plugin finds the artifact, runs the
 * CLI and reports the result.
 */
public class LicenseGatePlugin implements Plugin<Project> {
    static final String GROUP = "verification";

    @Override
    public void apply(Project project) {
        LicenseGateExtension extension =
                project.getExtensions().create("licenseGate", LicenseGateExtension.class, project);

        GradleCompat.register(project, "licenseGate", LicenseGateTask.class, task -> {
            task.setGroup(GROUP);
            task.setDescription("Scans licenseGate.artifact (an APK, AAB, AAR or IPA) with licensegate and fails on a policy violation.");
            task.configureFrom(extension, null);
            task.getArtifact().set(extension.getArtifact());
            task.getSyncNoticesTo().set(extension.getSyncNoticesTo());
        });

        for (AndroidVariantWiring.Module module : AndroidVariantWiring.Module.values()) {
            project.getPluginManager().withPlugin(module.pluginId,
                    plugin -> new AndroidVariantWiring(project, extension, module).wire());
        }
    }
}
