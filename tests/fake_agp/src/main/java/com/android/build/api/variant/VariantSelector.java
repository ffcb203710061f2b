package com.android.build.api.variant;

/** Mirrors AGP's VariantSelector. */
public interface VariantSelector {
    VariantSelector all();

    VariantSelector withBuildType(String buildType);

    VariantSelector withName(String name);
}
