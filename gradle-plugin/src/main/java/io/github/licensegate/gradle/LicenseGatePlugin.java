package io.github.licensegate.gradle;

import org.gradle.api.Plugin;
import org.gradle.api.Project;

import java.util.concurrent.Callable;

/**
 * {@code io.github.licensegate}: adds the {@code licenseGate} extension and task, and with the Android
 * application plugin a {@code licenseGate<Variant>} / {@code licenseGate<Variant>Bundle} task per variant.
 * All judgement stays in the licensegate CLI; the plugin finds the artifact and reports the result.
 */
public class LicenseGatePlugin implements Plugin<Project> {
    static final String GROUP = "verification";

    @Override
    public void apply(Project project) {
        LicenseGateExtension extension =
                project.getExtensions().create("licenseGate", LicenseGateExtension.class, project);

        GradleCompat.register(project.getTasks(), "licenseGate", LicenseGateTask.class, task -> {
            task.setGroup(GROUP);
            task.setDescription("Scans licenseGate.artifact (an APK, AAB or IPA) with licensegate and fails on a policy violation.");
            task.configureFrom(extension, null);
            task.getArtifacts().setFrom((Callable<Object>) extension::getArtifact);
        });

        project.getPluginManager().withPlugin("com.android.application",
                plugin -> new AndroidVariantWiring(project, extension).wire());
    }
}
