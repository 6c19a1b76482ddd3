package jllm.generate;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

class StopMatcherTest {
    @Test
    void stopStringIsNeverEmittedEvenInPart() {
        StringBuilder out = new StringBuilder();
        StopMatcher m = new StopMatcher(List.of("\nUser:"), out::append);
        assertThat(m.accept("Hello")).isFalse();
        assertThat(m.accept(" there\nUs")).isFalse();
        assertThat(out.toString()).isEqualTo("Hello there"); // "\nUs" held back
        assertThat(m.accept("er: hi")).isTrue();
        assertThat(out.toString()).isEqualTo("Hello there");
        assertThat(m.text()).isEqualTo("Hello there");
    }

    @Test
    void heldBackTextIsReleasedWhenItStopsMatching() {
        StringBuilder out = new StringBuilder();
        StopMatcher m = new StopMatcher(List.of("END"), out::append);
        m.accept("abcE");
        assertThat(out.toString()).isEqualTo("abc");
        m.accept("N");
        m.accept("D?");
        assertThat(out.toString()).isEqualTo("abc");
        assertThat(m.text()).isEqualTo("abc");
        StopMatcher m2 = new StopMatcher(List.of("END"), out::append);
        out.setLength(0);
        m2.accept("EN");
        m2.accept("x");
        m2.finish("");
        assertThat(out.toString()).isEqualTo("ENx");
    }
}
