package com.android.build.api.variant;

/** Mirrors AGP's LibraryVariant. */
public interface LibraryVariant extends Variant {
}
