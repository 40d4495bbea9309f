package dev.shepherd.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

class IsoInstantsTest {

  private static final DateTimeFormatter SECONDS =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss");

  record Stamped(Instant at) {}

  @Test
  void readsEveryPlainUtcInstantAsInstantParseDoes() {
    Random random = new Random(14);
    for (int i = 0; i < 20_000; i++) {
      long second = random.nextLong(0, Instant.parse("9999-12-31T23:59:59Z").getEpochSecond());
      int digits = random.nextInt(10); // 0 to 9 fraction digits
      String fraction =
          digits == 0
              ? ""
              : "." + String.format("%09d", random.nextInt(1_000_000_000)).substring(0, digits);
      String text =
          LocalDateTime.ofEpochSecond(second, 0, ZoneOffset.UTC).format(SECONDS) + fraction + "Z";
      assertThat(IsoInstants.parseUtc(text)).as(text).isEqualTo(Instant.parse(text));
    }
    assertThat(IsoInstants.parseUtc("2024-02-29T23:59:59.999999999Z"))
        .isEqualTo(Instant.parse("2024-02-29T23:59:59.999999999Z"));
  }

  @Test
  void leavesEverythingElseToTheFullParser() {
    for (String other :
        List.of(
            "2026-12-01T15:00:06+01:00",
            "2026-12-01T14:00:06.Z",
            "2026-12-01T14:00:60Z",
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-12-01 14:00:06Z",
            "2026-12-01T14:00:06.1234567890Z",
            "+12026-12-01T14:00:06Z",
            "2026-12-01T14:00:06z",
            "2026-12-01T14:00:0xZ",
            "")) {
      assertThat(IsoInstants.parseUtc(other)).as(other).isNull();
    }
  }

  @Test
  void theMapperAcceptsAndRefusesWhatJacksonAloneDoes() {
    JsonMapper plain = JsonMapper.builder().build();
    List<String> values =
        new ArrayList<>(
            List.of(
                "\"2026-12-01T14:00:06.123456Z\"",
                "\"2026-12-01T14:00:06Z\"",
                "\"2026-12-01T15:00:06+01:00\"",
                "\"2026-02-30T00:00:00Z\"",
                "\"yesterday\"",
                "1764597606",
                "1764597606.5",
                "null"));
    for (String value : values) {
      String json = "{\"at\":" + value + "}";
      assertThat(read(Json.mapper(), json)).as(json).isEqualTo(read(plain, json));
    }
  }

  /** The instant read, or the kind of failure. */
  private static Object read(JsonMapper mapper, String json) {
    try {
      return mapper.readValue(json, Stamped.class);
    } catch (RuntimeException e) {
      return e.getClass();
    }
  }
}
