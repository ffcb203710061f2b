package com.android.build.api.variant;

import com.android.build.api.artifact.Artifacts;

/** Mirrors AGP's Variant (through Component): name, build type, artifacts. */
public interface Variant {
    String getName();

    String getBuildType();

    String getFlavorName();

    Artifacts getArtifacts();
}
