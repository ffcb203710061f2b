package io.github.licensegate.gradle;

import org.gradle.api.Action;
import org.gradle.api.DomainObjectCollection;
import org.gradle.api.Task;
import org.gradle.api.tasks.TaskContainer;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;

/**
 * The plugin compiles against Gradle 4.4's API. Where newer Gradle has a lazy replacement for an eager
 * 4.4 method (tasks.register, configureEach, named), this uses it when present, so modern builds keep
 * task configuration avoidance and 4.4 still works.
 */
final class GradleCompat {
    private GradleCompat() {
    }

    /** {@code tasks.register(name, type, action)} on Gradle 4.9+, {@code tasks.create} before. */
    static <T extends Task> void register(TaskContainer tasks, String name, Class<T> type, Action<? super T> action) {
        Method register = findPublicMethod(tasks.getClass(), "register", String.class, Class.class, Action.class);
        if (register != null) {
            invoke(register, tasks, name, type, action);
        } else {
            tasks.create(name, type, action);
        }
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
