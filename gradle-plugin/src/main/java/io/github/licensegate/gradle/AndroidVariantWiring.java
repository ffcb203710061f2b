package io.github.licensegate.gradle;

import org.gradle.api.Action;
import org.gradle.api.Project;
import org.gradle.api.Task;
import org.gradle.api.tasks.TaskContainer;

import java.io.File;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Wires a gate task to every Android application variant, without a compile-time dependency on AGP
 * (so the plugin builds offline and does not pin an AGP version):
 *
 * <ol>
 *   <li>AGP 7+: {@code androidComponents.onVariants} with {@code variant.artifacts.get(SingleArtifact.APK / BUNDLE)},
 *       which carry the producing task, so no task is found by name for the input.</li>
 *   <li>Older AGP (and anything that only has the tasks): after evaluation, variant names from
 *       {@code android.applicationVariants} when present, else from {@code assemble<Variant>} task names, and the
 *       artifact from the variant outputs, the task outputs, or the conventional {@code build/outputs} folders.</li>
 * </ol>
 *
 * Either way {@code assemble<Variant>} is finalized by {@code licenseGate<Variant>} and {@code bundle<Variant>} by
 * {@code licenseGate<Variant>Bundle}.
 */
final class AndroidVariantWiring {
    private static final Pattern ASSEMBLE = Pattern.compile("assemble([A-Z][A-Za-z0-9]*)");

    private final Project project;
    private final LicenseGateExtension extension;
    /** finalized task name -> gate task name, applied as tasks are realized. */
    private final Map<String, String> finalizers = new ConcurrentHashMap<>();

    AndroidVariantWiring(Project project, LicenseGateExtension extension) {
        this.project = project;
        this.extension = extension;
    }

    void wire() {
        GradleCompat.configureEach(project.getTasks(), (Action<Task>) task -> {
            String gate = finalizers.get(task.getName());
            if (gate != null) {
                task.finalizedBy(gate);
            }
        });
        if (!wireThroughVariantApi()) {
            // Old AGP creates its variant tasks in afterEvaluate; this action is queued after AGP's own.
            project.afterEvaluate(p -> wireByTaskNames());
        }
    }

    // ---- AGP 7+ -----------------------------------------------------------------------------------------

    private boolean wireThroughVariantApi() {
        Object components = project.getExtensions().findByName("androidComponents");
        if (components == null) {
            return false;
        }
        ClassLoader loader = components.getClass().getClassLoader();
        Object apk = kotlinObject(loader, "com.android.build.api.artifact.SingleArtifact$APK");
        Object bundle = kotlinObject(loader, "com.android.build.api.artifact.SingleArtifact$BUNDLE");
        Method selectorMethod = GradleCompat.findPublicMethod(components.getClass(), "selector");
        Method onVariants = GradleCompat.findPublicMethodByShape(components.getClass(), "onVariants", 2, Action.class);
        if (apk == null || selectorMethod == null || onVariants == null) {
            return false;
        }
        Object selector = GradleCompat.invoke(selectorMethod, components);
        Method all = GradleCompat.findPublicMethod(selector.getClass(), "all");
        if (all == null) {
            return false;
        }
        Object allVariants = GradleCompat.invoke(all, selector);
        GradleCompat.invoke(onVariants, components, allVariants, (Action<Object>) variant -> {
            String name = (String) call(variant, "getName");
            Object artifacts = call(variant, "getArtifacts");
            // Artifacts.get(SingleArtifact<T>): found by what it accepts, as the declared type moved between AGP versions.
            Method get = GradleCompat.findPublicMethodAccepting(artifacts.getClass(), "get", apk.getClass());
            if (get == null) {
                throw new IllegalStateException("LicenseGate: this AGP's Artifacts has no get(SingleArtifact)");
            }
            Object apkDir = GradleCompat.invoke(get, artifacts, apk);
            registerGate(name, "apk", apkDir, Collections.emptyList(), "assemble");
            if (bundle != null) {
                Object aab = GradleCompat.invoke(get, artifacts, bundle);
                registerGate(name, "aab", aab, Collections.emptyList(), "bundle");
            }
        });
        return true;
    }

    // ---- older AGP, or only tasks ---------------------------------------------------------------------

    private void wireByTaskNames() {
        TaskContainer tasks = project.getTasks();
        Set<String> taskNames = tasks.getNames();
        Map<String, Object> variantOutputs = new ConcurrentHashMap<>();
        Set<String> variants = new TreeSet<>();
        Object android = project.getExtensions().findByName("android");
        Method applicationVariants = android == null ? null
                : GradleCompat.findPublicMethod(android.getClass(), "getApplicationVariants");
        if (applicationVariants != null) {
            for (Object variant : (Iterable<?>) GradleCompat.invoke(applicationVariants, android)) {
                String name = (String) call(variant, "getName");
                variants.add(name);
                variantOutputs.put(name, variant);
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
        File outputs = new File(project.getBuildDir(), "outputs");
        for (String variant : variants) {
            String cap = capitalize(variant);
            if (taskNames.contains("assemble" + cap)) {
                Object variantObject = variantOutputs.get(variant);
                List<Object> primary = new ArrayList<>();
                primary.add(tasks.getByName("assemble" + cap).getOutputs().getFiles());
                if (variantObject != null) {
                    primary.add((Callable<List<File>>) () -> outputFiles(variantObject));
                }
                List<Object> fallback = new ArrayList<>();
                fallback.add(new File(outputs, "apk/" + String.join("/", camelSegments(variant))));
                fallback.add(new File(outputs, "apk/" + variant));
                registerGate(variant, "apk", primary, fallback, "assemble");
            }
            if (taskNames.contains("bundle" + cap)) {
                registerGate(variant, "aab", tasks.getByName("bundle" + cap).getOutputs().getFiles(),
                        Collections.singletonList(new File(outputs, "bundle/" + variant)), "bundle");
            }
        }
    }

    // ---- shared ----------------------------------------------------------------------------------------

    private void registerGate(String variant, String extensionName, Object artifact, List<Object> fallback, String finalizedVerb) {
        String cap = capitalize(variant);
        boolean bundle = "aab".equals(extensionName);
        String gateName = "licenseGate" + cap + (bundle ? "Bundle" : "");
        String finalized = finalizedVerb + cap;
        String subject = "variant " + variant + (bundle ? " (AAB)" : " (APK)");
        GradleCompat.register(project.getTasks(), gateName, LicenseGateTask.class, task -> {
            task.setGroup(LicenseGatePlugin.GROUP);
            task.setDescription("Scans the " + (bundle ? "AAB" : "APK") + " of variant " + variant
                    + " with licensegate and fails on a policy violation.");
            task.configureFrom(extension, variant + (bundle ? "Bundle" : ""));
            task.setArtifactExtension(extensionName);
            task.setSubject(subject);
            task.getArtifacts().from(artifact);
            task.getFallbackArtifacts().from(fallback.toArray());
            // Running the gate on its own builds what it scans first.
            task.dependsOn(finalized);
        });
        finalizers.put(finalized, gateName);
        if (project.getTasks().getNames().contains(finalized)) {
            GradleCompat.configureNamed(project.getTasks(), finalized, t -> t.finalizedBy(gateName));
        }
    }

    private static List<File> outputFiles(Object variant) {
        List<File> files = new ArrayList<>();
        Object outputs = call(variant, "getOutputs");
        if (outputs instanceof Iterable) {
            for (Object output : (Iterable<?>) outputs) {
                Object file = call(output, "getOutputFile");
                if (file instanceof File) {
                    files.add((File) file);
                }
            }
        }
        return files;
    }

    private static Object call(Object target, String method) {
        Method m = GradleCompat.findPublicMethod(target.getClass(), method);
        if (m == null) {
            throw new IllegalStateException("LicenseGate: " + target.getClass().getName() + " has no " + method + "()");
        }
        return GradleCompat.invoke(m, target);
    }

    private static Object kotlinObject(ClassLoader loader, String className) {
        Class<?> type = classOrNull(loader, className);
        if (type == null) {
            return null;
        }
        try {
            return type.getField("INSTANCE").get(null);
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    private static Class<?> classOrNull(ClassLoader loader, String className) {
        try {
            return Class.forName(className, false, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
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
