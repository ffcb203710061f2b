package com.android.build.api.variant;

/** Mirrors AGP's ApplicationVariant. */
public interface ApplicationVariant extends Variant {
}
