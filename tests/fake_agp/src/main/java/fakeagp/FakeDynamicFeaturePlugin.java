package fakeagp;

public class FakeDynamicFeaturePlugin extends FakeAndroidPlugin {
    Kind kind() {
        return Kind.DYNAMIC_FEATURE;
    }
}
