package io.github.licensegate.gradle;

import org.gradle.api.Action;
import org.gradle.api.DomainObjectCollection;
import org.gradle.api.Project;
import org.gradle.api.Task;
import org.gradle.api.file.DirectoryProperty;
import org.gradle.api.file.RegularFileProperty;
import org.gradle.api.provider.ListProperty;
import org.gradle.api.provider.Provider;
import org.gradle.api.tasks.TaskContainer;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The plugin compiles against Gradle 4.4's API and against current Gradle's (CI compiles it against 8.11.1 with
 * deprecation warnings as errors). Where the two disagree, the call goes through reflection here:
 * lazy task registration (4.9+), {@code objects.fileProperty()} (5.0+) against {@code layout.fileProperty()}
 * (4.4 to 5.x, gone since), and {@code ListProperty.set}, whose erased signature changed in 5.0.
 */
final class GradleCompat {
    private GradleCompat() {
    }

    /**
     * {@code tasks.register(name, type, action)} on Gradle 4.9+ (returns its {@code TaskProvider}), {@code tasks.create}
     * before (returns a plain {@code Provider} of the task, which is what AGP's artifact API is handed there).
     */
    static <T extends Task> Provider<?> register(Project project, String name, Class<T> type, Action<? super T> action) {
        TaskContainer tasks = project.getTasks();
        Method register = findPublicMethod(tasks.getClass(), "register", String.class, Class.class, Action.class);
        if (register != null) {
            return (Provider<?>) invoke(register, tasks, name, type, action);
        }
        T task = tasks.create(name, type, action);
        return project.provider(() -> task);
    }

    /** {@code objects.fileProperty()} on Gradle 5.0+, {@code layout.fileProperty()} on 4.4 to 5.x. */
    static RegularFileProperty fileProperty(Project project) {
        return (RegularFileProperty) newLocationProperty(project, "fileProperty");
    }

    /** {@code objects.directoryProperty()} on Gradle 5.0+, {@code layout.directoryProperty()} on 4.4 to 5.x. */
    static DirectoryProperty directoryProperty(Project project) {
        return (DirectoryProperty) newLocationProperty(project, "directoryProperty");
    }

    private static Object newLocationProperty(Project project, String factory) {
        Object objects = project.getObjects();
        Method onObjects = findPublicMethod(objects.getClass(), factory);
        if (onObjects != null) {
            return invoke(onObjects, objects);
        }
        Object layout = project.getLayout();
        Method onLayout = findPublicMethod(layout.getClass(), factory);
        if (onLayout == null) {
            throw new IllegalStateException("LicenseGate: this Gradle has neither objects." + factory + "() nor layout." + factory + "()");
        }
        return invoke(onLayout, layout);
    }

    /** {@code property.set(values)}: {@code set(Object)} on Gradle 4.x, {@code set(Iterable)} since 5.0. */
    static void setList(ListProperty<String> property, List<String> values) {
        Method set = findPublicMethodByShape(property.getClass(), "set", 1, values.getClass());
        if (set == null) {
            throw new IllegalStateException("LicenseGate: this Gradle's ListProperty has no set(List)");
        }
        invoke(set, property, values);
    }

    /** {@code collection.configureEach(action)} on Gradle 4.9+, {@code all(action)} before. */
    static <T> void configureEach(DomainObjectCollection<T> collection, Action<? super T> action) {
        Method configureEach = findPublicMethod(collection.getClass(), "configureEach", Action.class);
        if (configureEach != null) {
            invoke(configureEach, collection, action);
        } else {
            collection.all(action);
        }
    }

    /** {@code tasks.named(name).configure(action)} on Gradle 4.9+, {@code action.execute(getByName(name))} before. */
    static void configureNamed(TaskContainer tasks, String name, Action<? super Task> action) {
        Method named = findPublicMethod(tasks.getClass(), "named", String.class);
        if (named != null) {
            Object provider = invoke(named, tasks, name);
            Method configure = findPublicMethod(provider.getClass(), "configure", Action.class);
            if (configure != null) {
                invoke(configure, provider, action);
                return;
            }
        }
        action.execute(tasks.getByName(name));
    }

    /** A public method callable through a public type (implementation classes are often package-private). */
    static Method findPublicMethod(Class<?> type, String name, Class<?>... parameterTypes) {
        Deque<Class<?>> queue = new ArrayDeque<>();
        Set<Class<?>> seen = new HashSet<>();
        queue.add(type);
        while (!queue.isEmpty()) {
            Class<?> c = queue.poll();
            if (!seen.add(c)) {
                continue;
            }
            if (Modifier.isPublic(c.getModifiers())) {
                try {
                    return c.getMethod(name, parameterTypes);
                } catch (NoSuchMethodException ignored) {
                    // look further up
                }
            }
            if (c.getSuperclass() != null) {
                queue.add(c.getSuperclass());
            }
            for (Class<?> i : c.getInterfaces()) {
                queue.add(i);
            }
        }
        return null;
    }

    /** A public method named {@code name} with one parameter that accepts an instance of {@code argumentType}. */
    static Method findPublicMethodAccepting(Class<?> type, String name, Class<?> argumentType) {
        return findPublicMethodByShape(type, name, 1, argumentType);
    }

    /**
     * A public method named {@code name} with {@code arity} parameters whose last parameter accepts
     * {@code lastArgumentType}.
     */
    static Method findPublicMethodByShape(Class<?> type, String name, int arity, Class<?> lastArgumentType) {
        Deque<Class<?>> queue = new ArrayDeque<>();
        Set<Class<?>> seen = new HashSet<>();
        queue.add(type);
        while (!queue.isEmpty()) {
            Class<?> c = queue.poll();
            if (!seen.add(c)) {
                continue;
            }
            if (Modifier.isPublic(c.getModifiers())) {
                for (Method m : c.getMethods()) {
                    Class<?>[] params = m.getParameterTypes();
                    if (m.getName().equals(name) && params.length == arity
                            && (arity == 0 || params[arity - 1].isAssignableFrom(lastArgumentType))
                            && Modifier.isPublic(m.getDeclaringClass().getModifiers())) {
                        return m;
                    }
                }
            }
            if (c.getSuperclass() != null) {
                queue.add(c.getSuperclass());
            }
            for (Class<?> i : c.getInterfaces()) {
                queue.add(i);
            }
        }
        return null;
    }

    static Object invoke(Method method, Object target, Object... args) {
        try {
            return method.invoke(target, args);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("LicenseGate: cannot call " + method, e);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException) {
                throw (RuntimeException) cause;
            }
            if (cause instanceof Error) {
                throw (Error) cause;
            }
            throw new IllegalStateException("LicenseGate: " + method + " failed", cause);
        }
    }
}
