// What Gradle's Kotlin DSL adds on top of the Gradle API jar, for the docs' snippets to compile against
// (tests/test_gradle_plugin.py::test_kotlin_dsl_snippets_in_the_docs_compile). Maven Central carries the Gradle API
// but not gradle-kotlin-dsl, so these few declarations copy the signatures of gradle-kotlin-dsl 8.11 (the assign
// overloads and PluginDependencySpec.version) and of the type-safe accessors Gradle generates for an extension
// registered as `licenseGate`.
@file:Suppress("unused")

package org.gradle.kotlin.dsl

import io.github.licensegate.gradle.LicenseGateExtension
import org.gradle.api.Action
import org.gradle.api.Project
import org.gradle.api.file.FileSystemLocation
import org.gradle.api.file.FileSystemLocationProperty
import org.gradle.api.provider.HasMultipleValues
import org.gradle.api.provider.Property
import org.gradle.api.provider.Provider
import org.gradle.plugin.use.PluginDependencySpec
import java.io.File

fun <T> Property<T>.assign(value: T?) = set(value)

fun <T> Property<T>.assign(value: Provider<out T?>) = set(value)

fun <T : FileSystemLocation> FileSystemLocationProperty<T>.assign(file: File?) = set(file)

fun <T> HasMultipleValues<T>.assign(elements: Iterable<T?>?) = set(elements)

infix fun PluginDependencySpec.version(version: String?): PluginDependencySpec = version(version)

val Project.licenseGate: LicenseGateExtension
    get() = extensions.getByName("licenseGate") as LicenseGateExtension

fun Project.licenseGate(configure: Action<LicenseGateExtension>): Unit = extensions.configure("licenseGate", configure)
