package fakeagp;

import com.android.build.api.artifact.SingleArtifact;
import com.android.build.api.variant.Variant;
import org.gradle.api.Action;
import org.gradle.api.Plugin;
import org.gradle.api.Project;
import org.gradle.api.Task;
import org.gradle.api.file.RegularFile;
import org.gradle.api.provider.Provider;

import java.io.File;
import java.util.Collections;

/**
 * A publishing plugin as gradle-play-publisher is one: it takes SingleArtifact.BUNDLE (or AAR) from the artifact API in
 * onVariants, never through a task name, and uploads it: here it copies it to build/fake-store/ and records the path.
 */
public class FakePlayPublisherPlugin implements Plugin<Project> {
    public void apply(Project project) {
        project.getPluginManager().withPlugin("com.android.application", p -> wire(project, SingleArtifact.BUNDLE.INSTANCE, "Bundle"));
        project.getPluginManager().withPlugin("com.android.library", p -> wire(project, SingleArtifact.AAR.INSTANCE, "Aar"));
    }

    private static void wire(Project project, SingleArtifact<RegularFile> type, String suffix) {
        FakeComponents components = (FakeComponents) project.getExtensions().getByName("androidComponents");
        components.onVariants(components.selector().all(), (Action<Variant>) variant -> {
            Provider<RegularFile> artifact = variant.getArtifacts().get(type);
            String name = "publish" + FakeAndroidPlugin.cap(variant.getName()) + suffix;
            Task publish = project.getTasks().create(name);
            publish.dependsOn(((FakeArtifacts) variant.getArtifacts()).finalProducer(type));
            publish.doLast(t -> {
                File uploaded = artifact.get().getAsFile();
                FakeAndroidPlugin.copy(uploaded, new File(project.getBuildDir(), "fake-store/" + uploaded.getName()));
                FakeAndroidPlugin.record(project, name, Collections.singletonList(uploaded.getAbsolutePath()));
            });
        });
    }
}
