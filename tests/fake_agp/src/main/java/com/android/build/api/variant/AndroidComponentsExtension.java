package com.android.build.api.variant;

import kotlin.Unit;
import kotlin.jvm.functions.Function1;
import org.gradle.api.Action;

/** Mirrors AGP's AndroidComponentsExtension: onVariants with a Kotlin lambda and with a Gradle Action. */
public interface AndroidComponentsExtension<DslExtensionT, VariantBuilderT, VariantT extends Variant> {
    VariantSelector selector();

    void onVariants(VariantSelector selector, Function1<VariantT, Unit> callback);

    void onVariants(VariantSelector selector, Action<VariantT> callback);
}
