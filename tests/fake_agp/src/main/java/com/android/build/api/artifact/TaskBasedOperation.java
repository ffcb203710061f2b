package com.android.build.api.artifact;

import kotlin.jvm.functions.Function1;
import org.gradle.api.Task;
import org.gradle.api.file.DirectoryProperty;
import org.gradle.api.file.RegularFileProperty;

/** Mirrors AGP's TaskBasedOperation: Kotlin function types, as AGP declares them ((TaskT) -> RegularFileProperty). */
public interface TaskBasedOperation<TaskT extends Task> {
    InAndOutFileOperationRequest wiredWithFiles(
            Function1<TaskT, RegularFileProperty> taskInput, Function1<TaskT, RegularFileProperty> taskOutput);

    InAndOutDirectoryOperationRequest<TaskT> wiredWithDirectories(
            Function1<TaskT, DirectoryProperty> taskInput, Function1<TaskT, DirectoryProperty> taskOutput);
}
