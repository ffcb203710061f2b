package com.android.build.api.variant;

/** Mirrors AGP's ApplicationAndroidComponentsExtension (DSL and variant-builder types reduced to Object). */
public interface ApplicationAndroidComponentsExtension extends AndroidComponentsExtension<Object, Object, ApplicationVariant> {
}
