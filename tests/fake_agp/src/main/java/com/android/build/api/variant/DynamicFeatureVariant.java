package com.android.build.api.variant;

/** Mirrors AGP's DynamicFeatureVariant. */
public interface DynamicFeatureVariant extends Variant {
}
