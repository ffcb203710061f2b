package com.android.build.api.variant;

/** Mirrors AGP's DynamicFeatureAndroidComponentsExtension (DSL and variant-builder types reduced to Object). */
public interface DynamicFeatureAndroidComponentsExtension extends AndroidComponentsExtension<Object, Object, DynamicFeatureVariant> {
}
