#!/usr/bin/env python3
"""Maintainer script: build LicenseGate's Java knowledge base (src/licensegate/data/java_kb.tsv) from real sources.

Run as ``python scripts/build_java_kb.py`` (standard library only; needs apt-get/dpkg-deb for Debian and npm for
the React Native part; Maven Central is read over HTTPS).  Everything downloaded is cached outside the clone in
``${LICENSEGATE_KB_CACHE:-~/.cache/licensegate/java-kb}`` so a second run reads no network.

Sources, each with its licence statement taken from the source itself:

1. Debian bookworm: every ``lib*-java`` package of section ``java`` (Architecture: all) up to ``--debian-max-size``.
   The class packages of the jars under ``/usr/share/java`` and the licence of the ``Files: *`` stanza of the
   package's DEP-5 ``/usr/share/doc/<pkg>/copyright`` (Debian short names mapped to SPDX ids; ``or`` kept as OR).
   The private apt state of fixtures/build.py is used (own lists, never the system's).
2. Maven Central: the POM licences (``<licenses>``, followed through parent POMs; mapped to SPDX by URL first, then
   by name; several ``<license>`` entries are a choice, kept as OR) of the libraries Android apps use most
   (MAVEN below), and the class packages of their jar, or of the classes.jar inside their AAR.
3. npm: React Native libraries (NPM below): the ``package`` statements of their Android sources
   (``android/**/*.java|*.kt``) and the ``license`` of their package.json.

Each library's packages become prefixes: its root packages, collapsed to their common owner package when no other
library defines classes under it.  A prefix claimed by two libraries goes to the source listed first above for
Maven, then Debian, then npm; libraries are never merged across sources.  Output: one TSV line per library
(id, name, licence, source, homepage, prefixes), sorted; provenance in src/licensegate/data/java_kb.README.md.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "fixtures"))
sys.path.insert(0, str(REPO / "src"))
import build as fixtures_build  # noqa: E402  (fixtures/build.py: the private apt state)

OUT = REPO / "src" / "licensegate" / "data" / "java_kb.tsv"
CENTRAL = "https://repo1.maven.org/maven2"

# The libraries Android apps ship most, as groupId:artifactId on Maven Central (AndroidX, Firebase and Play
# services live on Google's Maven repository, which this machine cannot reach; data/java_packages.toml covers them).
MAVEN = """
com.squareup.okhttp3:okhttp com.squareup.okhttp:okhttp com.squareup.okio:okio com.squareup.retrofit2:retrofit
com.squareup.retrofit:retrofit com.squareup.moshi:moshi com.squareup.picasso:picasso com.squareup.wire:wire-runtime
com.squareup.leakcanary:leakcanary-android-core com.squareup:javapoet com.squareup:otto com.squareup.sqlbrite:sqlbrite
com.github.bumptech.glide:glide com.github.bumptech.glide:gifdecoder com.github.bumptech.glide:disklrucache
io.reactivex.rxjava2:rxjava io.reactivex.rxjava3:rxjava io.reactivex.rxjava2:rxandroid io.reactivex:rxjava
io.reactivex:rxandroid org.reactivestreams:reactive-streams com.jakewharton.timber:timber com.jakewharton:butterknife
com.jakewharton.threetenabp:threetenabp com.jakewharton:disklrucache com.google.dagger:dagger com.google.guava:guava
com.google.guava:failureaccess com.google.code.gson:gson com.google.protobuf:protobuf-java
com.google.protobuf:protobuf-javalite com.google.zxing:core com.journeyapps:zxing-android-embedded
com.google.code.findbugs:jsr305 com.google.errorprone:error_prone_annotations com.google.j2objc:j2objc-annotations
com.google.crypto.tink:tink-android com.google.flatbuffers:flatbuffers-java com.googlecode.libphonenumber:libphonenumber
com.googlecode.mp4parser:isoparser org.mp4parser:isoparser com.fasterxml.jackson.core:jackson-core
com.fasterxml.jackson.core:jackson-databind com.fasterxml.jackson.core:jackson-annotations joda-time:joda-time
net.danlew:android.joda org.threeten:threetenbp org.greenrobot:eventbus org.greenrobot:greendao de.greenrobot:eventbus
com.airbnb.android:lottie com.facebook.fresco:fresco com.facebook.fresco:imagepipeline com.facebook.stetho:stetho
com.facebook.android:facebook-core com.facebook.soloader:soloader com.facebook.fbjni:fbjni com.facebook.yoga:proguard-annotations
com.facebook.react:react-android com.facebook.infer.annotation:infer-annotation com.facebook.shimmer:shimmer
com.facebook.conceal:conceal org.bouncycastle:bcprov-jdk15on org.bouncycastle:bcpkix-jdk15on
org.bouncycastle:bcprov-jdk18on net.zetetic:android-database-sqlcipher net.zetetic:sqlcipher-android org.jsoup:jsoup
commons-io:commons-io commons-codec:commons-codec commons-logging:commons-logging org.apache.commons:commons-lang3
org.apache.commons:commons-compress org.apache.commons:commons-text org.apache.commons:commons-collections4
commons-net:commons-net org.apache.httpcomponents:httpclient org.apache.httpcomponents:httpcore
org.apache.httpcomponents:httpmime org.slf4j:slf4j-api com.github.tony19:logback-android org.jetbrains:annotations
org.jetbrains.kotlin:kotlin-stdlib org.jetbrains.kotlin:kotlin-reflect org.jetbrains.kotlinx:kotlinx-coroutines-core
org.jetbrains.kotlinx:kotlinx-serialization-core org.jetbrains.kotlinx:kotlinx-datetime io.insert-koin:koin-core
io.ktor:ktor-client-core io.coil-kt:coil io.sentry:sentry io.sentry:sentry-android-core io.branch.sdk.android:library
com.adjust.sdk:adjust-android com.onesignal:OneSignal org.osmdroid:osmdroid-android org.conscrypt:conscrypt-android
io.socket:socket.io-client io.socket:engine.io-client org.eclipse.paho:org.eclipse.paho.client.mqttv3
org.eclipse.paho:org.eclipse.paho.android.service net.java.dev.jna:jna org.mozilla:rhino com.itextpdf:itextg
com.itextpdf:kernel com.itextpdf:itextpdf com.tom-roush:pdfbox-android ch.acra:acra-core com.jcraft:jsch
com.github.mwiede:jsch org.igniterealtime.smack:smack-core org.jmdns:jmdns com.j256.ormlite:ormlite-core
com.j256.ormlite:ormlite-android app.cash.sqldelight:runtime com.afollestad.material-dialogs:core
de.hdodenhof:circleimageview com.makeramen:roundedimageview com.nineoldandroids:library uk.co.chrisjenx:calligraphy
com.nostra13.universalimageloader:universal-image-loader com.mcxiaoke.volley:library com.loopj.android:android-async-http
com.koushikdutta.async:androidasync com.koushikdutta.ion:ion net.lingala.zip4j:zip4j org.xerial:sqlite-jdbc
com.h2database:h2 mysql:mysql-connector-java com.mysql:mysql-connector-j org.mariadb.jdbc:mariadb-java-client
org.postgresql:postgresql com.sun.mail:android-mail com.sun.mail:android-activation com.sun.mail:javax.mail
javax.inject:javax.inject javax.annotation:javax.annotation-api org.codelibs:jcifs eu.agno3.jcifs:jcifs-ng
jcifs:jcifs net.jthink:jaudiotagger org.jfree:jfreechart org.whispersystems:signal-protocol-java
org.whispersystems:signal-protocol-android org.signal:libsignal-client info.guardianproject.netcipher:netcipher
org.jitsi:ice4j dnsjava:dnsjava com.jcraft:jzlib org.jcraft:jorbis com.googlecode.soundlibs:jlayer
com.googlecode.soundlibs:mp3spi org.apache.cordova:framework de.robv.android.xposed:api org.apache.pdfbox:pdfbox
org.apache.poi:poi org.apache.xmlbeans:xmlbeans xerces:xercesImpl xml-apis:xml-apis com.ibm.icu:icu4j
org.ccil.cowan.tagsoup:tagsoup net.sourceforge.htmlcleaner:htmlcleaner org.simpleframework:simple-xml
com.thoughtworks.xstream:xstream org.yaml:snakeyaml com.esotericsoftware:kryo org.msgpack:msgpack-core
com.github.luben:zstd-jni org.lz4:lz4-java org.tukaani:xz com.github.junrar:junrar net.sf.sevenzipjbinding:sevenzipjbinding
org.java-websocket:Java-WebSocket org.nanohttpd:nanohttpd org.eclipse.jetty:jetty-server io.netty:netty-all
io.grpc:grpc-core io.grpc:grpc-okhttp io.grpc:grpc-protobuf-lite io.grpc:grpc-stub io.perfmark:perfmark-api
com.amazonaws:aws-android-sdk-core com.amplifyframework:core com.microsoft.signalr:signalr
com.microsoft.appcenter:appcenter com.mixpanel.android:mixpanel-android com.segment.analytics.android:analytics
com.amplitude:android-sdk com.braintreepayments.api:braintree com.stripe:stripe-android com.paypal.sdk:paypal-android-sdk
io.realm:realm-android-library com.couchbase.lite:couchbase-lite-android org.webrtc:google-webrtc
io.github.webrtc-sdk:android org.videolan.android:libvlc-all com.arthenica:ffmpeg-kit-full com.arthenica:mobile-ffmpeg-full
com.writingminds:FFmpegAndroid org.bytedeco:javacv org.bytedeco:javacpp org.bytedeco:ffmpeg org.tensorflow:tensorflow-lite
org.pytorch:pytorch_android org.pytorch:pytorch_android_lite com.microsoft.onnxruntime:onnxruntime-android
org.opencv:opencv com.quickbirdstudios:opencv org.jetbrains.kotlinx:kotlinx-coroutines-android
com.beust:klaxon com.github.promeg:tinypinyin com.belerweb:pinyin4j net.sourceforge.jtds:jtds ch.qos.logback:logback-classic
org.apache.logging.log4j:log4j-api log4j:log4j org.hamcrest:hamcrest-core org.hamcrest:hamcrest junit:junit
org.junit.jupiter:junit-jupiter-api org.mockito:mockito-core net.bytebuddy:byte-buddy org.objenesis:objenesis
org.assertj:assertj-core com.google.truth:truth net.gcardone.junidecode:junidecode com.github.vbmacher:java-cup-runtime
org.eclipse.wst.xml:xpath2 org.mozilla:geckoview org.tinylog:tinylog-api org.apache.commons:commons-math3
org.apache.commons:commons-csv com.opencsv:opencsv org.apache.thrift:libthrift com.github.jnr:jnr-ffi
org.zeromq:jeromq org.jetbrains.kotlinx:atomicfu io.github.microutils:kotlin-logging org.apache.mina:mina-core
com.twitter.sdk.android:twitter-core com.linecorp:linesdk com.kakao.sdk:v2-user com.tencent.mm.opensdk:wechat-sdk-android
com.alipay.sdk:alipaysdk-android com.huawei.hms:base org.jsoup:jsoup org.ini4j:ini4j com.jayway.jsonpath:json-path
net.minidev:json-smart org.json:json com.alibaba:fastjson com.alibaba:fastjson2 com.alibaba.fastjson2:fastjson2
cn.hutool:hutool-all com.tencent:mmkv com.tencent:mmkv-static com.tencent.bugly:crashreport com.umeng.umsdk:common
com.blankj:utilcodex com.github.chrisbanes:PhotoView com.yalantis:ucrop com.github.yalantis:ucrop
com.theartofdev.edmodo:android-image-cropper com.karumi:dexter pub.devrel:easypermissions
com.github.PhilJay:MPAndroidChart com.google.android.exoplayer:exoplayer-core
""".split()

# React Native libraries on npm with Android sources.
NPM = """
react-native react-native-reanimated react-native-gesture-handler react-native-screens react-native-safe-area-context
react-native-svg react-native-vector-icons react-native-webview react-native-maps react-native-camera
react-native-vision-camera react-native-video react-native-fs react-native-device-info react-native-image-picker
react-native-permissions react-native-share react-native-sound react-native-blob-util rn-fetch-blob
react-native-fast-image react-native-linear-gradient react-native-splash-screen react-native-config
react-native-keychain react-native-mmkv react-native-sqlite-storage react-native-ble-plx react-native-ble-manager
react-native-background-timer react-native-background-fetch react-native-push-notification
react-native-localize react-native-geolocation-service react-native-contacts react-native-document-picker
react-native-pdf react-native-qrcode-scanner react-native-view-shot react-native-haptic-feedback
react-native-orientation-locker react-native-exit-app react-native-restart react-native-code-push
react-native-image-crop-picker react-native-track-player react-native-agora react-native-nfc-manager
react-native-tcp-socket react-native-udp react-native-zip-archive react-native-audio-recorder-player
react-native-google-mobile-ads react-native-iap react-native-biometrics react-native-inappbrowser-reborn
react-native-pager-view react-native-tab-view react-native-navigation react-native-fbsdk-next
react-native-onesignal react-native-branch lottie-react-native @react-native-async-storage/async-storage
@react-native-community/netinfo @react-native-community/datetimepicker @react-native-community/slider
@react-native-community/geolocation @react-native-community/clipboard @react-native-clipboard/clipboard
@react-native-picker/picker @react-native-firebase/app @react-native-firebase/messaging @shopify/flash-list
@sentry/react-native @stripe/stripe-react-native react-native-ffmpeg ffmpeg-kit-react-native
@react-native-voice/voice react-native-tts react-native-vlc-media-player react-native-nodemediaclient
""".split()


def log(msg: str) -> None:
    print(f"[java-kb] {msg}", file=sys.stderr, flush=True)


@dataclass
class Library:
    id: str
    name: str
    license: str
    source: str
    homepage: str = ""
    packages: dict[str, int] = field(default_factory=dict)  # package -> classes (or source files)
    origin: str = ""  # "maven", "debian", "npm"


# -- licence names -----------------------------------------------------------------------------------------------

_DEB = {
    "gpl-1": "GPL-1.0-only", "gpl-1+": "GPL-1.0-or-later",
    "gpl-2": "GPL-2.0-only", "gpl-2+": "GPL-2.0-or-later", "gpl-3": "GPL-3.0-only", "gpl-3+": "GPL-3.0-or-later",
    "gpl-2.0": "GPL-2.0-only", "gpl-2.0+": "GPL-2.0-or-later", "gpl-3.0": "GPL-3.0-only", "gpl-3.0+": "GPL-3.0-or-later",
    "lgpl-2": "LGPL-2.0-only", "lgpl-2+": "LGPL-2.0-or-later", "lgpl-2.0": "LGPL-2.0-only", "lgpl-2.0+": "LGPL-2.0-or-later",
    "lgpl-2.1": "LGPL-2.1-only", "lgpl-2.1+": "LGPL-2.1-or-later", "lgpl-3": "LGPL-3.0-only", "lgpl-3+": "LGPL-3.0-or-later",
    "lgpl-3.0": "LGPL-3.0-only", "lgpl-3.0+": "LGPL-3.0-or-later",
    "agpl-3": "AGPL-3.0-only", "agpl-3+": "AGPL-3.0-or-later", "agpl-3.0": "AGPL-3.0-only", "agpl-3.0+": "AGPL-3.0-or-later",
    "apache-2.0": "Apache-2.0", "apache-2": "Apache-2.0", "apache-1.1": "Apache-1.1", "apache-1.0": "Apache-1.0",
    "apache": "Apache-2.0", "apache2": "Apache-2.0", "apache-2.0+": "Apache-2.0",
    "bsd-2-clause": "BSD-2-Clause", "bsd-3-clause": "BSD-3-Clause", "bsd-4-clause": "BSD-4-Clause", "bsd": "BSD-3-Clause",
    "bsd-3": "BSD-3-Clause", "bsd-2": "BSD-2-Clause", "bsd-3-clause-clear": "BSD-3-Clause-Clear",
    "expat": "MIT", "mit": "MIT", "isc": "ISC", "zlib": "Zlib", "w3c": "W3C", "w3c-19980720": "W3C-19980720",
    "mpl-1.0": "MPL-1.0", "mpl-1.1": "MPL-1.1", "mpl-2.0": "MPL-2.0", "mpl-1.1+": "MPL-1.1",
    "epl-1.0": "EPL-1.0", "epl-2.0": "EPL-2.0", "edl-1.0": "BSD-3-Clause", "cpl-1.0": "CPL-1.0", "cpl": "CPL-1.0",
    "cddl-1.0": "CDDL-1.0", "cddl-1.1": "CDDL-1.1", "cddl": "CDDL-1.0", "cecill-2.1": "CECILL-2.1", "cecill-b": "CECILL-B",
    "cecill-c": "CECILL-C", "cc0-1.0": "CC0-1.0", "cc0": "CC0-1.0", "public-domain": "LicenseRef-public-domain",
    "bsl-1.0": "BSL-1.0", "wtfpl": "WTFPL", "unlicense": "Unlicense", "icu": "ICU", "unicode-dfs-2016": "Unicode-DFS-2016",
    "unicode-3.0": "Unicode-3.0", "sax-pd": "SAX-PD", "artistic-2.0": "Artistic-2.0", "artistic": "Artistic-1.0",
    "mit-0": "MIT-0", "x11": "X11", "lpl-1.02": "LPL-1.02", "ipl-1.0": "IPL-1.0", "spl-1.0": "SPL-1.0",
    "bouncy": "MIT", "json": "JSON", "sleepycat": "Sleepycat", "ofl-1.1": "OFL-1.1", "upl-1.0": "UPL-1.0",
    "bsd-4": "BSD-4-Clause", "eclipse-public-license-v1.0": "EPL-1.0", "epl-1": "EPL-1.0", "mit/x11": "MIT",
    "2-clause-bsd": "BSD-2-Clause", "simplifiedbsd": "BSD-2-Clause", "bsd-3-clauses": "BSD-3-Clause",
    "modified-bsd-license": "BSD-3-Clause", "public_domain": "LicenseRef-public-domain", "pd": "LicenseRef-public-domain",
    "gpl-v3+": "GPL-3.0-or-later", "gpl-v2+": "GPL-2.0-or-later", "gpl-v2": "GPL-2.0-only", "gpl-v3": "GPL-3.0-only",
    "cddl-1": "CDDL-1.0", "the-university-of-illinois-ncsa-open-source-license": "NCSA", "sissl": "SISSL",
    "gfdl-1.2+": "GFDL-1.2-or-later", "gfdl-1.3": "GFDL-1.3-only", "eupl-1.1": "EUPL-1.1", "eupl-1.2": "EUPL-1.2",
}
_EXCEPTIONS = {"classpath": "Classpath-exception-2.0", "gcc": "GCC-exception-3.1", "openssl": "LicenseRef-OpenSSL-exception",
               "universal-foss": "Universal-FOSS-exception-1.0", "llvm": "LLVM-exception"}


def _deb_term(term: str) -> str | None:
    term = term.strip().strip("()").strip()
    m = re.match(r"(.+?)\s+with\s+(.+?)\s*(?:exception)?$", term, re.I)
    if m:
        base = _deb_term(m.group(1))
        exc_key = re.sub(r"[-_ ]*exception.*", "", m.group(2).strip().lower())
        exc = next((v for k, v in _EXCEPTIONS.items() if exc_key.startswith(k)), None)
        if base is None:
            return None
        return f"{base} WITH {exc}" if exc else base
    key = term.lower().replace(" ", "-")
    if key.endswith("-classpath"):  # "GPL-2-classpath"
        base = _DEB.get(key.removesuffix("-classpath"))
        return f"{base} WITH Classpath-exception-2.0" if base else None
    return _DEB.get(key)


def debian_to_spdx(expr: str) -> str | None:
    """A DEP-5 License expression ("GPL-2 with Classpath exception", "EPL-1.0 or LGPL-2.1") as SPDX, or None."""
    expr = expr.strip().replace(",", " ")
    expr = re.sub(r"(?i)-(or|and)-", r" \1 ", expr)  # "CDDL-or-GPL-2-with-classpath-exception"
    expr = re.sub(r"(?i)[-_ ]+with[-_ ]+", " with ", expr)
    for joiner, op in ((r"\s+or\s+", " OR "), (r"\s+and\s+", " AND ")):
        parts = re.split(joiner, expr, flags=re.I)
        if len(parts) > 1:
            mapped = [debian_to_spdx(p) for p in parts]
            if any(m is None for m in mapped):
                return None
            uniq = list(dict.fromkeys(m for m in mapped if m))
            return op.join(f"({m})" if " OR " in m or " AND " in m else m for m in uniq)
    return _deb_term(expr)


_URLS = [  # (regex on the URL, SPDX id); URL first, name second
    (r"apache\.org/licenses/LICENSE-2\.0|apache-2\.0|opensource\.org/licenses/apache2\.0", "Apache-2.0"),
    (r"opensource\.org/licenses/mit|mit-license|/MIT$|licenses/MIT", "MIT"),
    (r"opensource\.org/licenses/bsd-3|bsd-3-clause|/BSD-3", "BSD-3-Clause"),
    (r"opensource\.org/licenses/bsd-2|bsd-2-clause|/BSD-2", "BSD-2-Clause"),
    (r"gnu\.org/licenses/old-licenses/lgpl-2\.1|lgpl-2\.1", "LGPL-2.1-only"),
    (r"gnu\.org/licenses/lgpl-3|lgpl-3\.0|/lgpl\.html", "LGPL-3.0-only"),
    (r"gnu\.org/licenses/agpl|agpl-3\.0", "AGPL-3.0-only"),
    (r"gnu\.org/licenses/old-licenses/gpl-2\.0|gpl-2\.0", "GPL-2.0-only"),
    (r"gnu\.org/licenses/gpl-3|gpl-3\.0|gnu\.org/licenses/gpl\.html|/gpl\.txt", "GPL-3.0-only"),
    (r"eclipse\.org/legal/epl-v10|epl-1\.0|eclipse\.org/org/documents/epl-v10", "EPL-1.0"),
    (r"eclipse\.org/legal/epl-2\.0|epl-2\.0|epl-v20", "EPL-2.0"),
    (r"eclipse\.org/org/documents/edl-v10|edl-v10|edl-1\.0", "BSD-3-Clause"),
    (r"mozilla\.org/MPL/2\.0|mpl-2\.0", "MPL-2.0"), (r"mozilla\.org/MPL/MPL-1\.1|mpl-1\.1", "MPL-1.1"),
    (r"opensource\.org/licenses/cddl|cddl-1\.0|glassfish.*cddl|CDDL\+GPL", "CDDL-1.0"),
    (r"cddl-1\.1|CDDL-1\.1", "CDDL-1.1"),
    (r"creativecommons\.org/publicdomain/zero|cc0", "CC0-1.0"), (r"unlicense\.org", "Unlicense"),
    (r"opensource\.org/licenses/isc|/ISC$", "ISC"), (r"bouncycastle\.org/licen", "MIT"),
    (r"zetetic\.net/sqlcipher/license", "BSD-3-Clause"), (r"json\.org/license", "JSON"), (r"unicode\.org/copyright|icu-project\.org/repos/icu/.*license|unicode-org/icu.*LICENSE", "Unicode-DFS-2016"),
    (r"oss\.oracle\.com/licenses/upl|upl-1\.0", "UPL-1.0"), (r"boost\.org/LICENSE_1_0", "BSL-1.0"),
    (r"developer\.android\.com/studio/terms|android\.com/studio/terms", "LicenseRef-Android-Software-Development-Kit"),
]
_NAMES = [
    (r"apache.*2", "Apache-2.0"), (r"\bmit\b", "MIT"), (r"bsd.*3|new bsd|revised bsd|3-clause", "BSD-3-Clause"),
    (r"bsd.*2|simplified bsd|2-clause|freebsd", "BSD-2-Clause"), (r"^bsd$|bsd licen[cs]e", "BSD-3-Clause"),
    (r"lesser.*2\.1.*later|lgpl.*2\.1.*later|lgpl.*2\.1\+", "LGPL-2.1-or-later"), (r"lesser.*2\.1|lgpl.*2\.1", "LGPL-2.1-only"),
    (r"lesser.*3|lgpl.*3", "LGPL-3.0-only"), (r"lesser|lgpl", "LGPL-2.1-only"),
    (r"affero|agpl", "AGPL-3.0-only"),
    (r"gpl.*2.*classpath|classpath.*gpl.*2|gplv2\+ce|gpl2 w/ cpe", "GPL-2.0-only WITH Classpath-exception-2.0"),
    (r"general public.*2.*later|gpl.*2.*later|gplv2\+", "GPL-2.0-or-later"), (r"general public.*2|gpl.*2", "GPL-2.0-only"),
    (r"general public.*3|gpl.*3", "GPL-3.0-only"),
    (r"eclipse public.*2|epl.*2", "EPL-2.0"), (r"eclipse public|epl", "EPL-1.0"), (r"eclipse distribution|edl", "BSD-3-Clause"),
    (r"mozilla public.*2|mpl.*2", "MPL-2.0"), (r"mozilla public.*1\.1|mpl.*1\.1", "MPL-1.1"),
    (r"cddl.*1\.1|common development.*1\.1", "CDDL-1.1"), (r"cddl|common development", "CDDL-1.0"),
    (r"\bisc\b", "ISC"), (r"public domain", "LicenseRef-public-domain"), (r"cc0", "CC0-1.0"),
    (r"bouncy castle", "MIT"), (r"unicode|icu", "Unicode-DFS-2016"), (r"universal permissive", "UPL-1.0"),
    (r"boost", "BSL-1.0"), (r"zlib", "Zlib"),
    # licences outside the SPDX list, named as LicenseRefs (family unknown: a reviewer reads them)
    (r"cup parser generator copyright", "LicenseRef-CUP-Parser-Generator"),
]


def pom_licence(name: str, url: str) -> str | None:
    """One <license> of a POM as an SPDX id: by URL first (names are free text), then by name."""
    for pattern, ident in _URLS:
        if url and re.search(pattern, url, re.I):
            return ident
    lowered = name.lower()
    if re.fullmatch(r"[A-Za-z0-9.+-]+", name.strip()):
        as_id = debian_to_spdx(name.strip())
        if as_id:
            return as_id
    for pattern, ident in _NAMES:
        if re.search(pattern, lowered):
            return ident
    return None


# -- jars ----------------------------------------------------------------------------------------------------------

def jar_packages(data: bytes) -> dict[str, int]:
    """Classes per dotted package in a jar (or an AAR's classes.jar and libs/*.jar)."""
    counts: dict[str, int] = {}
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return counts
    with zf:
        for name in zf.namelist():
            if name.endswith(".jar") and (name == "classes.jar" or name.startswith("libs/")):
                for p, n in jar_packages(zf.read(name)).items():
                    counts[p] = counts.get(p, 0) + n
                continue
            if not name.endswith(".class") or name.endswith(("module-info.class", "package-info.class")):
                continue
            name = re.sub(r"^META-INF/versions/\d+/", "", name)
            if name.startswith(("META-INF/", "java/")) or "/" not in name:
                continue
            pkg = name.rsplit("/", 1)[0].replace("/", ".")
            if "-" in pkg or " " in pkg:
                continue
            counts[pkg] = counts.get(pkg, 0) + 1
    return counts


# -- Debian ----------------------------------------------------------------------------------------------------------

def _stanzas(text: str) -> list[dict[str, str]]:
    out = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            if line[:1].isspace() and key:
                fields[key] += "\n" + line.strip()
            elif ":" in line:
                key, val = line.split(":", 1)
                key = key.strip().lower()
                fields[key] = val.strip()
        if fields:
            out.append(fields)
    return out


def dep5_licence(text: str) -> tuple[str | None, str]:
    """(SPDX licence of the `Files: *` stanza, its Debian name) of a DEP-5 copyright file; (None, why) otherwise."""
    if not re.match(r"\s*Format:\s*\S*copyright-format", text, re.I):
        return None, "not machine-readable (no DEP-5 Format line)"
    stanzas = _stanzas(text)
    files = [s for s in stanzas if "files" in s and "license" in s]
    main = next((s for s in files if s["files"].split() and s["files"].split()[0] == "*"), None)
    if main is None:
        main = next((s for s in files if not s["files"].startswith("debian/")), None)
    if main is None:
        return None, "no Files stanza"
    name = main["license"].splitlines()[0].strip()
    return debian_to_spdx(name), name


def debian_libraries(cache: Path, max_size: int) -> list[Library]:
    apt = fixtures_build.Apt(cache / "apt")
    if not any((cache / "apt" / "lists").glob("*Packages*")):
        apt.update()
    stanzas: dict[str, dict[str, str]] = {}
    for lst in sorted((cache / "apt" / "lists").glob("*binary-arm64_Packages*")):
        raw = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", str(lst)], capture_output=True).stdout
        for st in raw.decode("utf-8", "replace").split("\n\n"):
            f = dict(re.findall(r"^([A-Za-z0-9-]+): (.*)$", st, re.M))
            name = f.get("Package", "")
            if (f.get("Architecture") == "all" and f.get("Section", "").endswith("java") and name.startswith("lib")
                    and name.endswith("-java") and int(f.get("Size", "0")) <= max_size):
                if name not in stanzas or f.get("Version", "") > stanzas[name].get("Version", ""):
                    # lists/deb.debian.org_debian_dists_bookworm_main_binary-arm64_Packages -> the archive's base URL
                    f["_base"] = "http://" + lst.name.split("_dists_", 1)[0].replace("_", "/")
                    stanzas[name] = f
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    have = {p.name.split("_", 1)[0] for p in debs.glob("*.deb")}
    missing = sorted(n for n in stanzas if n not in have)
    log(f"Debian: {len(stanzas)} Java library packages <= {max_size} bytes, {len(missing)} to download")
    # The files named by the signed Packages index (checked against its SHA256), eight at a time: apt-get
    # download stops a whole batch at the first package it cannot select.
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        for problem in pool.map(lambda n: _download_deb(stanzas[n], debs), missing):
            if problem:
                log(f"  {problem}")
    by_source: dict[str, Library] = {}
    for deb in sorted(debs.glob("*.deb")):
        pkg = deb.name.split("_", 1)[0]
        f = stanzas.get(pkg)
        if f is None:
            continue
        jars, copyright_text = _deb_contents(deb, pkg)
        packages: dict[str, int] = {}
        for data in jars:
            for p, n in jar_packages(data).items():
                packages[p] = packages.get(p, 0) + n
        if not packages:
            continue
        spdx_id, why = dep5_licence(copyright_text) if copyright_text else (None, "no copyright file")
        if spdx_id is None:
            log(f"  {pkg}: licence not mapped ({why})")
            continue
        source = f.get("Source", pkg).split()[0]
        lib = by_source.get(source)
        if lib is None:
            desc = f.get("Description", pkg).splitlines()[0].strip()
            lib = by_source[source] = Library(
                id=f"debian/{source}", name=desc[:1].upper() + desc[1:], license=spdx_id,
                source=f"Debian bookworm {pkg} {f.get('Version')} /usr/share/doc/{pkg}/copyright (Files: *: {why})",
                homepage=f.get("Homepage", ""), origin="debian")
        for p, n in packages.items():
            lib.packages[p] = lib.packages.get(p, 0) + n
    return list(by_source.values())


def _download_deb(f: dict[str, str], dest: Path) -> str | None:
    url = f"{f['_base']}/{f['Filename']}"
    target = dest / url.rsplit("/", 1)[-1]
    try:
        with urllib.request.urlopen(url, timeout=120) as resp:
            data = resp.read()
    except (urllib.error.URLError, OSError) as exc:
        return f"{url}: {exc}"
    if hashlib.sha256(data).hexdigest() != f.get("SHA256"):
        return f"{url}: sha256 differs from the Packages index"
    target.write_bytes(data)
    return None


def _deb_contents(deb: Path, pkg: str) -> tuple[list[bytes], str]:
    proc = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True)
    jars: list[bytes] = []
    text = ""
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
        for m in tar:
            if not m.isfile():
                continue
            n = m.name.lstrip("./")
            if n.startswith("usr/share/java/") and n.endswith(".jar") or n.startswith("usr/share/maven-repo/") and n.endswith(".jar"):
                fh = tar.extractfile(m)
                if fh is not None:
                    jars.append(fh.read())
            elif n == f"usr/share/doc/{pkg}/copyright":
                fh = tar.extractfile(m)
                if fh is not None:
                    text = fh.read().decode("utf-8", "replace")
    return jars, text


# -- Maven Central ---------------------------------------------------------------------------------------------------

def _get(url: str, cache: Path) -> bytes | None:
    local = cache / "maven" / url.removeprefix(CENTRAL + "/")
    missing = local.with_name(local.name + ".404")
    if local.exists():
        return local.read_bytes()
    if missing.exists():
        return None
    local.parent.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            data = resp.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            missing.touch()
            return None
        raise
    local.write_bytes(data)
    return data


def _xml(data: bytes) -> ET.Element:
    root = ET.fromstring(data)
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return root


def _release(meta: ET.Element) -> str:
    """The newest stable version listed: `<release>` is wrong for some old artifacts (commons-io's 20030203)."""
    stable = [v.text.strip() for v in meta.findall("versioning/versions/version") if v.text
              and not re.search(r"(?i)alpha|beta|rc|snapshot|-m\d|milestone|dev|pre|ea\b", v.text)
              and re.match(r"\d{1,3}(\.|$)", v.text.strip())]
    if stable:
        return stable[-1]
    return (meta.findtext("versioning/release") or meta.findtext("versioning/latest") or "").strip()


def _coords_path(group: str, artifact: str, version: str) -> str:
    return f"{CENTRAL}/{group.replace('.', '/')}/{artifact}/{version}/{artifact}-{version}"


def maven_libraries(cache: Path) -> list[Library]:
    out: list[Library] = []
    for coord in dict.fromkeys(MAVEN):
        group, artifact = coord.split(":")
        meta = _get(f"{CENTRAL}/{group.replace('.', '/')}/{artifact}/maven-metadata.xml", cache)
        if meta is None:
            log(f"  maven {coord}: not on Maven Central")
            continue
        root = _xml(meta)
        version = _release(root)
        if not version:
            continue
        base = _coords_path(group, artifact, version)
        pom = _get(base + ".pom", cache)
        if pom is None:
            continue
        licences, name, url, packaging, chain = _pom_licences(pom, cache)
        if not licences:
            log(f"  maven {coord}:{version}: no licence in the POM or its parents")
            continue
        mapped = [pom_licence(n, u) for n, u in licences]
        if any(m is None for m in mapped):
            log(f"  maven {coord}:{version}: licence not mapped: {licences}")
            continue
        uniq = list(dict.fromkeys(m for m in mapped if m))
        spdx_id = " OR ".join(f"({m})" if " " in m and " WITH " not in m else m for m in uniq)
        data = _get(base + (".aar" if packaging == "aar" else ".jar"), cache)
        if data is None and packaging != "aar":
            data = _get(base + ".aar", cache)
        if data is None:
            log(f"  maven {coord}:{version}: no jar or aar")
            continue
        packages = jar_packages(data)
        if not packages:
            continue
        stated = "; ".join(f"{n or '?'} <{u or '?'}>" for n, u in licences)
        out.append(Library(id=f"maven/{group}:{artifact}", name=name or f"{group}:{artifact}", license=spdx_id,
                           source=f"Maven Central {group}:{artifact}:{version} POM{chain}: {stated}", homepage=url or "",
                           packages=packages, origin="maven"))
    return out


def _pom_licences(pom: bytes, cache: Path, depth: int = 0) -> tuple[list[tuple[str, str]], str, str, str, str]:
    """(licences, name, url, packaging, " via parent g:a:v" chain) of a POM, following parents for the licences."""
    root = _xml(pom)
    name = (root.findtext("name") or "").strip()
    url = (root.findtext("url") or "").strip()
    packaging = (root.findtext("packaging") or "jar").strip()
    licences = [((lic.findtext("name") or "").strip(), (lic.findtext("url") or "").strip()) for lic in root.findall("licenses/license")]
    chain = ""
    if not licences and depth < 5:
        parent = root.find("parent")
        if parent is not None:
            g, a, v = (parent.findtext(k, "").strip() for k in ("groupId", "artifactId", "version"))
            data = _get(_coords_path(g, a, v) + ".pom", cache) if g and a and v else None
            if data is not None:
                licences, pname, purl, _pk, chain = _pom_licences(data, cache, depth + 1)
                chain = f" via parent {g}:{a}:{v}{chain}"
                name, url = name or pname, url or purl
    return licences, name, url, packaging, chain


# -- npm ------------------------------------------------------------------------------------------------------------

_PACKAGE_STMT = re.compile(rb"^\s*package\s+([A-Za-z_][\w.]*)\s*;?\s*$", re.M)


def npm_libraries(cache: Path) -> list[Library]:
    d = cache / "npm"
    d.mkdir(parents=True, exist_ok=True)
    out: list[Library] = []
    for name in NPM:
        tgz = next(iter(sorted(d.glob(name.lstrip("@").replace("/", "-") + "-[0-9]*.tgz"))), None)
        if tgz is None:
            proc = subprocess.run(["npm", "pack", name, "--pack-destination", str(d), "--silent"], cwd=d, capture_output=True, text=True)
            if proc.returncode != 0:
                log(f"  npm {name}: {proc.stderr.strip()[-200:]}")
                continue
            tgz = d / proc.stdout.strip().splitlines()[-1]
        packages: dict[str, int] = {}
        meta: dict[str, object] = {}
        with tarfile.open(tgz) as tar:
            for m in tar:
                if not m.isfile():
                    continue
                rel = m.name.split("/", 1)[-1]
                if rel == "package.json":
                    fh = tar.extractfile(m)
                    meta = json.loads(fh.read()) if fh else {}
                elif rel.startswith("android/") and "/src/" in rel and "/test" not in rel.lower() and rel.endswith((".java", ".kt")):
                    fh = tar.extractfile(m)
                    found = _PACKAGE_STMT.search(fh.read(8192)) if fh else None
                    if found:
                        p = found.group(1).decode()
                        packages[p] = packages.get(p, 0) + 1
        licence = meta.get("license")
        if isinstance(licence, dict):
            licence = licence.get("type")
        if not packages or not isinstance(licence, str):
            continue
        spdx_id = licence.strip()
        if not re.fullmatch(r"[A-Za-z0-9.+()\- ]+", spdx_id) or spdx_id.upper() in ("UNLICENSED", "SEE LICENSE IN LICENSE"):
            log(f"  npm {name}: licence {licence!r} not an SPDX expression")
            continue
        version = str(meta.get("version", "?"))
        homepage = meta.get("homepage") if isinstance(meta.get("homepage"), str) else ""
        out.append(Library(id=f"npm/{name}", name=f"{name} (React Native)", license=spdx_id,
                           source=f"npm {name}@{version} package.json license; packages from android/ sources",
                           homepage=str(homepage or ""), packages=packages, origin="npm"))
    return out


# -- prefixes -------------------------------------------------------------------------------------------------------

# Root packages that name no library: demo and test code shipped in jars, bare top-level domains.
_GENERIC = frozenset("demo demos test tests example examples sample samples util utils common main app internal impl "
                     "resources images icons default tools tool misc src java javax org com net io de".split())


def generic_prefix(prefix: str) -> bool:
    parts = prefix.split(".")
    return (len(parts) == 1 and parts[0] in _GENERIC) or (
        len(parts) == 2 and parts[0] in ("com", "org", "net", "io", "java", "javax", "sun") and parts[1] in _GENERIC)


def roots(packages: set[str]) -> list[str]:
    return sorted(p for p in packages if not any(p.startswith(q + ".") for q in packages if q != p))


def prefixes(libs: list[Library]) -> list[tuple[str, Library]]:
    """(prefix, library) for every library's packages; a package two libraries define goes to the earlier source,
    then to the library with more classes there."""
    from licensegate.android.inventory import family_of

    # exact package -> the library defining most classes there (the first listed on ties): a jar that repackages a
    # few classes of another library (logback-android, shaded copies) does not take the package over.
    # Across sources the earlier source wins (Maven's upstream POM over Debian's repackaging over npm), so one library
    # found in two sources is not split between them package by package.
    rank = {"maven": 0, "debian": 1, "npm": 2}
    owners: dict[str, Library] = {}
    for lib in libs:
        for p, n in lib.packages.items():
            have = owners.get(p)
            if have is None or (rank[lib.origin], -n) < (rank[have.origin], -have.packages[p]):
                owners[p] = lib
    out: dict[str, Library] = {}
    for lib in libs:
        mine = {p for p in lib.packages if owners[p] is lib and not p.startswith(("java.", "javax.annotation.processing"))}
        if not mine:
            continue
        rs = roots(mine)
        common = _common(rs)
        floor = len(family_of(common).split(".")) if common else 99
        others = [p for p, o in owners.items() if o is not lib and (p == common or p.startswith(common + "."))] if common else [1]
        if common and len(common.split(".")) >= max(floor, 2) and not others:
            rs = [common]
        for r in rs:
            if not generic_prefix(r):
                out.setdefault(r, lib)
    return sorted(out.items())


def _common(packages: list[str]) -> str:
    split = [p.split(".") for p in packages]
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return ".".join(common)


def write(entries: list[tuple[str, Library]], libs: list[Library], out: Path) -> None:
    """One line per library: id, name, licence, source, homepage, then its prefixes (space-separated), sorted by id."""
    def clean(s: str) -> str:
        return " ".join(s.replace("\t", " ").split())

    by_lib: dict[int, tuple[Library, list[str]]] = {}
    for prefix, lib in entries:
        by_lib.setdefault(id(lib), (lib, []))[1].append(prefix)
    kept = [lib for lib, _ in by_lib.values()]
    lines = [
        "# LicenseGate Java knowledge base: libraries, their licences and package prefixes; generated by scripts/build_java_kb.py.",
        "# Do not edit by hand: data/java_packages.toml holds the hand-checked entries and wins over this file.",
        f"# libraries: {len(kept)} (maven {sum(lb.origin == 'maven' for lb in kept)}, debian {sum(lb.origin == 'debian' for lb in kept)}, "
        f"npm {sum(lb.origin == 'npm' for lb in kept)}) of {len(libs)} read; prefixes: {len(entries)}",
        "# id\tname\tlicense\tsource\thomepage\tprefixes",
    ]
    for lib, prefixes in sorted(by_lib.values(), key=lambda item: item[0].id):
        lines.append("\t".join([*(clean(x) for x in (lib.id, lib.name, lib.license, lib.source, lib.homepage)), " ".join(sorted(prefixes))]))
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("LICENSEGATE_KB_CACHE", Path.home() / ".cache" / "licensegate" / "java-kb")))
    ap.add_argument("--debian-max-size", type=int, default=8_000_000)
    ap.add_argument("--skip", action="append", default=[], choices=("debian", "maven", "npm"))
    ap.add_argument("--output", type=Path, default=OUT)
    args = ap.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    libs: list[Library] = []
    if "maven" not in args.skip:
        libs += maven_libraries(args.cache)
        log(f"Maven Central: {sum(lb.origin == 'maven' for lb in libs)} libraries")
    if "debian" not in args.skip:
        libs += debian_libraries(args.cache, args.debian_max_size)
        log(f"Debian: {sum(lb.origin == 'debian' for lb in libs)} libraries")
    if "npm" not in args.skip:
        libs += npm_libraries(args.cache)
        log(f"npm: {sum(lb.origin == 'npm' for lb in libs)} libraries")
    entries = prefixes(libs)
    write(entries, libs, args.output)
    log(f"wrote {args.output}: {len({id(lb) for _, lb in entries})} libraries, {len(entries)} prefixes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
