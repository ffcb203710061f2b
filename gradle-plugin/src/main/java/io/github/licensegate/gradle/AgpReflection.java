package io.github.licensegate.gradle;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.function.Function;

/** Calls into AGP, which the plugin does not compile against (it is on Google's repository only, and pinning it would pin users). */
final class AgpReflection {
    private AgpReflection() {
    }

    static Object call(Object target, String method, Object... args) {
        Method m = args.length == 0
                ? GradleCompat.findPublicMethod(target.getClass(), method)
                : GradleCompat.findPublicMethodByShape(target.getClass(), method, args.length, args[args.length - 1].getClass());
        if (m == null) {
            throw new IllegalStateException("LicenseGate: " + target.getClass().getName() + " has no public " + method
                    + " taking " + args.length + " argument(s); this Android Gradle Plugin's API differs from the one LicenseGate knows");
        }
        return GradleCompat.invoke(m, target, args);
    }

    /** A Kotlin object's instance ({@code SingleArtifact.APK}), or null when this AGP has no such class. */
    static Object kotlinObject(ClassLoader loader, String className) {
        try {
            return Class.forName(className, false, loader).getField("INSTANCE").get(null);
        } catch (ReflectiveOperationException | LinkageError e) {
            return null;
        }
    }

    /** A Kotlin {@code (T) -> R} from AGP's own class loader, for API methods that take function types. */
    static Object kotlinFunction1(ClassLoader loader, Function<Object, Object> body) {
        Class<?> function1;
        try {
            function1 = Class.forName("kotlin.jvm.functions.Function1", false, loader);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("LicenseGate: the Android Gradle Plugin's class loader has no Kotlin standard library", e);
        }
        return Proxy.newProxyInstance(loader, new Class<?>[] {function1}, (proxy, method, args) -> {
            switch (method.getName()) {
                case "invoke":
                    return body.apply(args[0]);
                case "equals":
                    return proxy == args[0];
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "toString":
                    return "LicenseGate function";
                default:
                    throw new UnsupportedOperationException(method.getName());
            }
        });
    }
}
