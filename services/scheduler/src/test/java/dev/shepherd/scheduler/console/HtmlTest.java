package dev.shepherd.scheduler.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class HtmlTest {

  @Test
  void textEscapesWhatCouldOpenAnElementOrCloseAnAttribute() {
    assertThat(Html.text("<a href=\"x\" title='y'>&</a>"))
        .isEqualTo("&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
    assertThat(Html.text(null)).isEmpty();
  }

  @Test
  void urlEncodesAQueryValue() {
    assertThat(Html.url("a b&c/d")).isEqualTo("a%20b%26c%2Fd");
  }

  @Test
  void timeIsUtcWithMillisecondsInATimeElement() {
    assertThat(Html.time(Instant.parse("2026-12-01T10:00:00.123Z")))
        .isEqualTo("<time datetime=\"2026-12-01T10:00:00.123Z\">2026-12-01 10:00:00.123Z</time>");
  }
}
