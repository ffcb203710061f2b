package com.android.build.api.variant;

import java.util.Collection;

/** Mirrors AGP's BuiltArtifacts: what output-metadata.json lists. */
public interface BuiltArtifacts {
    String METADATA_FILE_NAME = "output-metadata.json";

    String getApplicationId();

    String getVariantName();

    Collection<BuiltArtifact> getElements();
}
