package fakeagp;

import com.android.build.api.artifact.SingleArtifact;
import com.android.build.api.variant.BuiltArtifact;
import com.android.build.api.variant.BuiltArtifacts;
import org.gradle.api.Plugin;
import org.gradle.api.Project;
import org.gradle.api.Task;
import org.gradle.api.file.Directory;
import org.gradle.api.file.RegularFile;
import org.gradle.api.provider.Provider;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * A stand-in for the Android Gradle Plugin. fakeAgp.mode=components (default): an androidComponents extension and the
 * artifact API; variants debug and release; package tasks write to build/intermediates, and assemble/install/bundle
 * consume the final artifact version. fakeAgp.mode=tasks: only assembleRelease/bundleRelease declaring their outputs,
 * as the plugin's fallback sees AGP older than 7.
 */
public abstract class FakeAndroidPlugin implements Plugin<Project> {
    enum Kind { APPLICATION, LIBRARY, DYNAMIC_FEATURE }

    abstract Kind kind();

    public void apply(Project project) {
        if ("tasks".equals(String.valueOf(project.findProperty("fakeAgp.mode")))) {
            createTasksOnly(project);
            return;
        }
        FakeComponents components = project.getExtensions().create("androidComponents", FakeComponents.class);
        project.afterEvaluate(p -> {
            for (String name : Arrays.asList("debug", "release")) {
                FakeVariant variant = new FakeVariant(project, name);
                createProducers(project, variant);
                components.run(variant);
                variant.artifacts.wire();
                createConsumers(project, variant);
            }
        });
    }

    private void createProducers(Project project, FakeVariant variant) {
        String v = variant.getName();
        String cap = cap(v);
        if (kind() != Kind.LIBRARY) {
            Provider<Directory> dir = project.getLayout().getBuildDirectory().dir("intermediates/apk/" + v + "/package" + cap);
            Task packageApk = project.getTasks().create("package" + cap);
            packageApk.getOutputs().dir(dir);
            packageApk.doLast(t -> {
                File apk = new File(dir.get().getAsFile(), (kind() == Kind.APPLICATION ? "app-" : "feature-") + v + ".apk");
                copy(project.file(project.property("fakeAgp.apk")), apk);
                FakeBuiltArtifactsLoader.write(dir.get().getAsFile(), "com.example.app", v, Collections.singletonList(apk.getAbsolutePath()));
            });
            variant.artifacts.setInitial(SingleArtifact.APK.INSTANCE, packageApk, dir);
        }
        if (kind() == Kind.APPLICATION) {
            Provider<RegularFile> aab = project.getLayout().getBuildDirectory().file("intermediates/bundle/" + v + "/sign" + cap + "Bundle/app-" + v + ".aab");
            Task sign = project.getTasks().create("sign" + cap + "Bundle");
            sign.getOutputs().file(aab);
            sign.doLast(t -> copy(project.file(project.property("fakeAgp.aab")), aab.get().getAsFile()));
            variant.artifacts.setInitial(SingleArtifact.BUNDLE.INSTANCE, sign, aab);
        }
        if (kind() == Kind.LIBRARY) {
            Provider<RegularFile> aar = project.getLayout().getBuildDirectory().file("intermediates/aar/" + v + "/bundle" + cap + "Aar/lib-" + v + ".aar");
            Task bundleAar = project.getTasks().create("bundle" + cap + "Aar");
            bundleAar.getOutputs().file(aar);
            bundleAar.doLast(t -> copy(project.file(project.property("fakeAgp.aar")), aar.get().getAsFile()));
            variant.artifacts.setInitial(SingleArtifact.AAR.INSTANCE, bundleAar, aar);
        }
    }

    /** AGP's own consumers of the final artifact: each records what it received in build/fake-agp/<task>.txt. */
    private void createConsumers(Project project, FakeVariant variant) {
        String cap = cap(variant.getName());
        FakeArtifacts artifacts = variant.artifacts;
        if (kind() != Kind.LIBRARY) {
            Provider<Directory> apks = artifacts.get(SingleArtifact.APK.INSTANCE);
            for (String name : Arrays.asList("assemble" + cap, "install" + cap)) {
                Task task = project.getTasks().create(name);
                task.dependsOn(artifacts.finalProducer(SingleArtifact.APK.INSTANCE));
                task.doLast(t -> {
                    BuiltArtifacts loaded = new FakeBuiltArtifactsLoader().load(apks.get());
                    List<String> files = new ArrayList<>();
                    for (BuiltArtifact element : loaded.getElements()) {
                        files.add(element.getOutputFile());
                    }
                    record(project, name, files);
                });
            }
        }
        if (kind() == Kind.APPLICATION) {
            consumeFile(project, "bundle" + cap, artifacts, SingleArtifact.BUNDLE.INSTANCE);
        }
        if (kind() == Kind.LIBRARY) {
            consumeFile(project, "assemble" + cap, artifacts, SingleArtifact.AAR.INSTANCE);
        }
    }

    private static void consumeFile(Project project, String name, FakeArtifacts artifacts, SingleArtifact<RegularFile> type) {
        Provider<RegularFile> file = artifacts.get(type);
        Task task = project.getTasks().create(name);
        task.dependsOn(artifacts.finalProducer(type));
        task.doLast(t -> record(project, name, Collections.singletonList(file.get().getAsFile().getAbsolutePath())));
    }

    static void record(Project project, String name, List<String> files) {
        File out = new File(project.getBuildDir(), "fake-agp/" + name + ".txt");
        try {
            Files.createDirectories(out.getParentFile().toPath());
            Files.write(out.toPath(), (String.join("\n", files) + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void createTasksOnly(Project project) {
        File apk = new File(project.getBuildDir(), "outputs/apk/release/app-release.apk");
        File aab = new File(project.getBuildDir(), "outputs/bundle/release/app-release.aab");
        Task assemble = project.getTasks().create("assembleRelease");
        assemble.getOutputs().file(apk);
        assemble.doLast(t -> copy(project.file(project.property("fakeAgp.apk")), apk));
        Task bundle = project.getTasks().create("bundleRelease");
        bundle.getOutputs().file(aab);
        bundle.doLast(t -> copy(project.file(project.property("fakeAgp.aab")), aab));
        project.getTasks().create("assembleReleaseUnitTest");
    }

    static void copy(File from, File to) {
        try {
            Files.createDirectories(to.getParentFile().toPath());
            Files.copy(from.toPath(), to.toPath(), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String cap(String s) {
        return s.substring(0, 1).toUpperCase() + s.substring(1);
    }
}
