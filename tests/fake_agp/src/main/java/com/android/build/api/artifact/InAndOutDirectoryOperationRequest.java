package com.android.build.api.artifact;

import org.gradle.api.Task;
import org.gradle.api.file.Directory;

/** Mirrors AGP's InAndOutDirectoryOperationRequest. */
public interface InAndOutDirectoryOperationRequest<TaskT extends Task> {
    <ArtifactTypeT extends Artifact.Single<Directory> & Artifact.Transformable> void toTransform(ArtifactTypeT type);

    <ArtifactTypeT extends Artifact.Single<Directory> & Artifact.Transformable & Artifact.ContainsMany>
            ArtifactTransformationRequest<TaskT> toTransformMany(ArtifactTypeT type);
}
