package com.android.build.api.variant;

/** Mirrors AGP's BuiltArtifact (outputFile is an absolute path once loaded). */
public interface BuiltArtifact {
    String getOutputFile();

    Integer getVersionCode();

    String getVersionName();
}
