package io.github.licensegate.gradle;

import org.gradle.api.Action;
import org.gradle.api.Project;
import org.gradle.api.Task;
import org.gradle.api.file.DirectoryProperty;
import org.gradle.api.provider.Provider;
import org.gradle.api.tasks.TaskContainer;

import java.io.File;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Puts a gate on every Android variant's artifact, without a compile-time dependency on AGP:
 *
 * <ol>
 *   <li>AGP 7+ ({@code androidComponents}): through the artifact API, as a transform of {@code SingleArtifact.APK}
 *       (application, dynamic-feature), {@code SingleArtifact.BUNDLE} (application) and {@code SingleArtifact.AAR}
 *       (library). Every consumer of those artifacts (assemble, bundle, install, publishing plugins) then receives the
 *       gate's output, which exists only when the gate passed.</li>
 *   <li>Older AGP (or anything that only has the tasks): after evaluation, {@code assemble<Variant>} and
 *       {@code bundle<Variant>} are finalized by a gate that scans their outputs. A plugin that takes the artifact
 *       some other way is not gated on this path.</li>
 * </ol>
 */
final class AndroidVariantWiring {
    private static final Pattern ASSEMBLE = Pattern.compile("assemble([A-Z][A-Za-z0-9]*)");

    /** Which Android plugin applied: decides which artifacts a variant has. */
    enum Module {
        APPLICATION("com.android.application"),
        LIBRARY("com.android.library"),
        DYNAMIC_FEATURE("com.android.dynamic-feature");

        final String pluginId;

        Module(String pluginId) {
            this.pluginId = pluginId;
        }
    }

    private final Project project;
    private final LicenseGateExtension extension;
    private final Module module;
    /** finalized task name -> gate task name (fallback path), applied as tasks are realized. */
    private final Map<String, String> finalizers = new ConcurrentHashMap<>();

    AndroidVariantWiring(Project project, LicenseGateExtension extension, Module module) {
        this.project = project;
        this.extension = extension;
        this.module = module;
    }

    void wire() {
        if (!wireThroughArtifactApi()) {
            GradleCompat.configureEach(project.getTasks(), (Action<Task>) task -> {
                String gate = finalizers.get(task.getName());
                if (gate != null) {
                    task.finalizedBy(gate);
                }
            });
            // Old AGP creates its variant tasks in afterEvaluate; this action is queued after AGP's own.
            project.afterEvaluate(p -> wireByTaskNames());
        }
    }

    // ---- AGP 7+: the artifact API ------------------------------------------------------------------------

    private boolean wireThroughArtifactApi() {
        Object components = project.getExtensions().findByName("androidComponents");
        if (components == null) {
            return false;
        }
        ClassLoader loader = components.getClass().getClassLoader();
        Object apk = AgpReflection.kotlinObject(loader, "com.android.build.api.artifact.SingleArtifact$APK");
        Object bundle = AgpReflection.kotlinObject(loader, "com.android.build.api.artifact.SingleArtifact$BUNDLE");
        Object aar = AgpReflection.kotlinObject(loader, "com.android.build.api.artifact.SingleArtifact$AAR");
        Method onVariants = GradleCompat.findPublicMethodByShape(components.getClass(), "onVariants", 2, Action.class);
        if (onVariants == null || (module == Module.LIBRARY ? aar == null : apk == null)) {
            return false;
        }
        Object allVariants = AgpReflection.call(AgpReflection.call(components, "selector"), "all");
        GradleCompat.invoke(onVariants, components, allVariants, (Action<Object>) variant -> {
            String name = (String) AgpReflection.call(variant, "getName");
            if (extension.getSkipVariants().get().contains(name)) {
                project.getLogger().info("LicenseGate: variant {} is in skipVariants; no gate.", name);
                return;
            }
            Method buildTypeGetter = GradleCompat.findPublicMethod(variant.getClass(), "getBuildType");
            String buildType = buildTypeGetter == null ? null : (String) GradleCompat.invoke(buildTypeGetter, variant);
            Object artifacts = AgpReflection.call(variant, "getArtifacts");
            if (module == Module.LIBRARY) {
                gateFile(name, buildType, artifacts, aar, "", "aar", "AAR");
                return;
            }
            gateApk(name, buildType, artifacts, apk);
            if (module == Module.APPLICATION && bundle != null) {
                gateFile(name, buildType, artifacts, bundle, "Bundle", "aab", "AAB");
            }
        });
        return true;
    }

    private void gateApk(String variant, String buildType, Object artifacts, Object apkType) {
        AtomicReference<Object> request = new AtomicReference<>();
        Object loader = AgpReflection.call(artifacts, "getBuiltArtifactsLoader");
        Provider<?> task = GradleCompat.register(project, gateName(variant, ""), LicenseGateApkTask.class, t -> {
            configure(t, variant, buildType, "", "APK");
            t.getTransformationRequest().set(project.provider(request::get));
            t.getBuiltArtifactsLoader().set(loader);
        });
        ClassLoader agp = artifacts.getClass().getClassLoader();
        Object operation = AgpReflection.call(artifacts, "use", task);
        Object wired = AgpReflection.call(operation, "wiredWithDirectories",
                AgpReflection.kotlinFunction1(agp, t -> ((LicenseGateApkTask) t).getApkFolder()),
                AgpReflection.kotlinFunction1(agp, t -> ((LicenseGateApkTask) t).getOutFolder()));
        request.set(AgpReflection.call(wired, "toTransformMany", apkType));
    }

    private void gateFile(String variant, String buildType, Object artifacts, Object type, String suffix, String extensionName, String label) {
        Provider<?> task = GradleCompat.register(project, gateName(variant, suffix), LicenseGateArchiveTask.class, t -> {
            configure(t, variant, buildType, suffix, label);
            t.setArtifactExtension(extensionName);
        });
        ClassLoader agp = artifacts.getClass().getClassLoader();
        Object operation = AgpReflection.call(artifacts, "use", task);
        Object wired = AgpReflection.call(operation, "wiredWithFiles",
                AgpReflection.kotlinFunction1(agp, t -> ((LicenseGateArchiveTask) t).getInputFile()),
                AgpReflection.kotlinFunction1(agp, t -> ((LicenseGateArchiveTask) t).getOutputFile()));
        AgpReflection.call(wired, "toTransform", type);
    }

    // ---- older AGP, or only tasks ---------------------------------------------------------------------

    private void wireByTaskNames() {
        TaskContainer tasks = project.getTasks();
        Set<String> taskNames = tasks.getNames();
        Map<String, Object> variantObjects = new ConcurrentHashMap<>();
        Set<String> variants = new TreeSet<>();
        Object android = project.getExtensions().findByName("android");
        Method variantsGetter = android == null ? null : GradleCompat.findPublicMethod(android.getClass(),
                module == Module.LIBRARY ? "getLibraryVariants" : "getApplicationVariants");
        if (variantsGetter != null) {
            for (Object variant : (Iterable<?>) GradleCompat.invoke(variantsGetter, android)) {
                String name = (String) AgpReflection.call(variant, "getName");
                variants.add(name);
                variantObjects.put(name, variant);
            }
        } else {
            for (String taskName : taskNames) {
                Matcher m = ASSEMBLE.matcher(taskName);
                // assemble<X>UnitTest / AndroidTest build test APKs, not the app.
                if (m.matches() && !taskName.endsWith("Test")) {
                    variants.add(decapitalize(m.group(1)));
                }
            }
        }
        DirectoryProperty outputs = GradleCompat.directoryProperty(project);
        outputs.set(project.getLayout().getBuildDirectory().dir("outputs"));
        for (String variant : variants) {
            if (extension.getSkipVariants().get().contains(variant)) {
                continue;
            }
            String cap = capitalize(variant);
            List<String> segments = camelSegments(variant);
            String buildType = segments.get(segments.size() - 1);
            if (taskNames.contains("assemble" + cap)) {
                Task assemble = tasks.getByName("assemble" + cap);
                Object variantObject = variantObjects.get(variant);
                String kind = module == Module.LIBRARY ? "aar" : "apk";
                List<Object> searched = new ArrayList<>();
                searched.add(assemble.getOutputs().getFiles());
                if (variantObject != null) {
                    searched.add((Callable<List<File>>) () -> outputFiles(variantObject));
                }
                searched.add(outputs.dir(kind + "/" + String.join("/", segments)));
                searched.add(outputs.dir(kind + "/" + variant));
                if (module == Module.LIBRARY) {
                    searched.add(outputs.dir("aar"));
                }
                registerFinalizer(variant, buildType, "", kind, searched, "assemble" + cap);
            }
            if (module == Module.APPLICATION && taskNames.contains("bundle" + cap)) {
                List<Object> searched = new ArrayList<>();
                searched.add(tasks.getByName("bundle" + cap).getOutputs().getFiles());
                searched.add(outputs.dir("bundle/" + variant));
                registerFinalizer(variant, buildType, "Bundle", "aab", searched, "bundle" + cap);
            }
        }
    }

    private void registerFinalizer(String variant, String buildType, String suffix, String kind, List<Object> searched, String finalized) {
        String gateName = gateName(variant, suffix);
        GradleCompat.register(project, gateName, LicenseGateTask.class, task -> {
            configure(task, variant, buildType, suffix, kind.toUpperCase(Locale.ROOT));
            task.setArtifactExtension(kind);
            task.getArtifactFiles().from(searched.toArray());
            // Running the gate on its own builds what it scans first.
            task.dependsOn(finalized);
        });
        finalizers.put(finalized, gateName);
        GradleCompat.configureNamed(project.getTasks(), finalized, t -> t.finalizedBy(gateName));
    }

    // ---- shared ----------------------------------------------------------------------------------------

    private static String gateName(String variant, String suffix) {
        return "licenseGate" + capitalize(variant) + suffix;
    }

    /** Settings every variant gate shares: reports and notices per variant, and whether this variant may fail the build. */
    private void configure(LicenseGateTask task, String variant, String buildType, String suffix, String label) {
        task.setGroup(LicenseGatePlugin.GROUP);
        task.setDescription("Scans the " + label + " of variant " + variant + " with licensegate"
                + " (fails on a policy violation if its build type is in licenseGate.failOnBuildTypes).");
        task.configureFrom(extension, variant + suffix);
        task.setSubject("variant " + variant + " (" + label + ")");
        LicenseGateExtension ext = extension;
        task.getFailOnViolation().set(project.provider(() ->
                ext.getFailOnViolation().get() && buildType != null && ext.getFailOnBuildTypes().get().contains(buildType)));
        task.getSyncNoticesTo().set(extension.variantSyncNoticesTo(variant + suffix));
    }

    private static List<File> outputFiles(Object variant) {
        List<File> files = new ArrayList<>();
        Object outputs = AgpReflection.call(variant, "getOutputs");
        if (outputs instanceof Iterable) {
            for (Object output : (Iterable<?>) outputs) {
                Object file = AgpReflection.call(output, "getOutputFile");
                if (file instanceof File) {
                    files.add((File) file);
                }
            }
        }
        return files;
    }

    static String capitalize(String s) {
        return s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1);
    }

    static String decapitalize(String s) {
        return s.isEmpty() ? s : s.substring(0, 1).toLowerCase(Locale.ROOT) + s.substring(1);
    }

    /** {@code freeStagingRelease} -> [free, staging, release]: AGP's output folder layout per flavor and build type. */
    static List<String> camelSegments(String variant) {
        List<String> parts = new ArrayList<>();
        for (String part : variant.split("(?=[A-Z])")) {
            parts.add(part.toLowerCase(Locale.ROOT));
        }
        return parts;
    }
}
