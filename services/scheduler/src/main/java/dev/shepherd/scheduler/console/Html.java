package dev.shepherd.scheduler.console;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** Escaping and formatting for the console's pages: every value goes through {@link #text}. */
public final class Html {

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private Html() {}

  /** The value as HTML text or attribute content; null is the empty string. */
  public static String text(Object value) {
    if (value == null) {
      return "";
    }
    String s = value.toString();
    StringBuilder out = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }

  /** A URL path segment or query value. */
  public static String url(String value) {
    return value == null
        ? ""
        : URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** An instant as the console shows it (UTC, milliseconds), in a {@code <time>} element. */
  public static String time(Instant at) {
    return at == null ? "" : "<time datetime=\"" + at + "\">" + text(TIME.format(at)) + "</time>";
  }
}
