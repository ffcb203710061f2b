package com.android.build.api.artifact;

import org.gradle.api.file.RegularFile;

/** Mirrors AGP's InAndOutFileOperationRequest. */
public interface InAndOutFileOperationRequest {
    <ArtifactTypeT extends Artifact.Single<RegularFile> & Artifact.Transformable> void toTransform(ArtifactTypeT type);
}
