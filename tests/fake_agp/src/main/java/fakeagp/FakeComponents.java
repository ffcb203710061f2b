package fakeagp;

import com.android.build.api.variant.AndroidComponentsExtension;
import com.android.build.api.variant.Variant;
import com.android.build.api.variant.VariantSelector;
import kotlin.Unit;
import kotlin.jvm.functions.Function1;
import org.gradle.api.Action;

import java.util.ArrayList;
import java.util.List;

/** The androidComponents extension: callbacks run once per variant, after the build script, as AGP runs them. */
public class FakeComponents implements AndroidComponentsExtension<Object, Object, Variant> {
    private final List<Action<Variant>> callbacks = new ArrayList<>();

    public VariantSelector selector() {
        return new VariantSelector() {
            public VariantSelector all() {
                return this;
            }

            public VariantSelector withBuildType(String buildType) {
                throw new UnsupportedOperationException("fake AGP: only all()");
            }

            public VariantSelector withName(String name) {
                throw new UnsupportedOperationException("fake AGP: only all()");
            }
        };
    }

    public void onVariants(VariantSelector selector, Function1<Variant, Unit> callback) {
        callbacks.add(callback::invoke);
    }

    public void onVariants(VariantSelector selector, Action<Variant> callback) {
        callbacks.add(callback);
    }

    void run(Variant variant) {
        for (Action<Variant> callback : new ArrayList<>(callbacks)) {
            callback.execute(variant);
        }
    }
}
