package dev.shepherd.model;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.deser.std.StdScalarDeserializer;
import tools.jackson.databind.ext.javatime.deser.InstantDeserializer;

/**
 * Reads the instants Shepherd writes ({@code 2026-12-01T14:00:06.123456Z}: UTC, four-digit year, 0
 * to 9 fraction digits) without {@link java.time.format.DateTimeFormatter}, whose parse cost a
 * worker 3 % and the status-tracker 5 % of their CPU per job (every work message and status event
 * carries one). Anything else (an offset, a leap second, a malformed date) goes to Jackson's own
 * {@link InstantDeserializer}, which accepts or refuses it exactly as before.
 */
public final class IsoInstants {

  private static final int[] POWERS_OF_TEN = {
    1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000
  };

  private IsoInstants() {}

  /**
   * The instant {@code text} names when it has the plain UTC form {@code
   * yyyy-MM-ddTHH:mm:ss[.f{1,9}]Z} and a valid date and time; null otherwise, for the full parser
   * to read or refuse.
   */
  public static Instant parseUtc(String text) {
    int n = text.length();
    if (n < 20
        || n == 21
        || n > 30
        || text.charAt(n - 1) != 'Z'
        || text.charAt(4) != '-'
        || text.charAt(7) != '-'
        || text.charAt(10) != 'T'
        || text.charAt(13) != ':'
        || text.charAt(16) != ':') {
      return null;
    }
    int year = digits(text, 0, 4);
    int month = digits(text, 5, 2);
    int day = digits(text, 8, 2);
    int hour = digits(text, 11, 2);
    int minute = digits(text, 14, 2);
    int second = digits(text, 17, 2);
    if (year < 0 || month < 1 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59) {
      return null;
    }
    if (second < 0 || second > 59) {
      return null; // a leap second (60) is the full parser's
    }
    int nanos = 0;
    if (n > 20) {
      int fractionDigits = n - 21;
      int fraction = text.charAt(19) == '.' ? digits(text, 20, fractionDigits) : -1;
      if (fraction < 0) {
        return null;
      }
      nanos = fraction * POWERS_OF_TEN[9 - fractionDigits];
    }
    long epochDay;
    try {
      epochDay = LocalDate.of(year, month, day).toEpochDay();
    } catch (DateTimeException e) {
      return null; // February 30th and the like: refused by the full parser, with its message
    }
    return Instant.ofEpochSecond(epochDay * 86_400 + hour * 3_600L + minute * 60L + second, nanos);
  }

  /** The decimal number in {@code text} from {@code from}, {@code count} digits; -1 if not one. */
  private static int digits(String text, int from, int count) {
    int value = 0;
    for (int i = from; i < from + count; i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  /** Jackson's deserializer of {@link Instant} with {@link #parseUtc} in front. */
  static final class Deserializer extends StdScalarDeserializer<Instant> {

    Deserializer() {
      super(Instant.class);
    }

    @Override
    public Instant deserialize(JsonParser parser, DeserializationContext context) {
      if (parser.currentToken() == JsonToken.VALUE_STRING) {
        Instant plain = parseUtc(parser.getString());
        if (plain != null) {
          return plain;
        }
      }
      return InstantDeserializer.INSTANT.deserialize(parser, context);
    }
  }
}
