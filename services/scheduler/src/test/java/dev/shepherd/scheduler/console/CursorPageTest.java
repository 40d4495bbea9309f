package dev.shepherd.scheduler.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class CursorPageTest {

  private static final List<String> IDS = List.of("a", "b", "c", "d", "e");

  @Test
  void theFirstPageEndsWithTheCursorOfTheNext() {
    CursorPage<String> page = CursorPage.after(IDS, Function.identity(), null, 2);
    assertThat(page.rows()).containsExactly("a", "b");
    assertThat(page.next()).isEqualTo("b");
  }

  @Test
  void aCursorStartsAfterItsRowAndTheLastPageHasNoNext() {
    assertThat(CursorPage.after(IDS, Function.identity(), "b", 2).rows()).containsExactly("c", "d");
    CursorPage<String> last = CursorPage.after(IDS, Function.identity(), "d", 2);
    assertThat(last.rows()).containsExactly("e");
    assertThat(last.next()).isNull();
  }

  @Test
  void aPageThatEndsExactlyAtTheEndHasNoNext() {
    assertThat(CursorPage.after(IDS, Function.identity(), "c", 2).next()).isNull();
  }

  @Test
  void aCursorNoLongerListedStartsAtTheBeginning() {
    assertThat(CursorPage.after(IDS, Function.identity(), "gone", 2).rows())
        .containsExactly("a", "b");
  }
}
