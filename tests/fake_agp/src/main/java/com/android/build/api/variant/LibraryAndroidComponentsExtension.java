package com.android.build.api.variant;

/** Mirrors AGP's LibraryAndroidComponentsExtension (DSL and variant-builder types reduced to Object). */
public interface LibraryAndroidComponentsExtension extends AndroidComponentsExtension<Object, Object, LibraryVariant> {
}
