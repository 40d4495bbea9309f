package dev.shepherd.scheduler;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Refuses a request body larger than {@code shepherd.security.max-body} with 413 (API4,
 * unrestricted resource consumption): by its {@code Content-Length} before anything is read, and a
 * chunked one as soon as it passes the limit, so a 50 MiB body costs the limit's worth of memory,
 * not 50 MiB.
 */
final class BodyLimitFilter extends OncePerRequestFilter {

  private final long maxBytes;

  BodyLimitFilter(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  @Override
  protected boolean shouldNotFilter(HttpServletRequest request) {
    return !request.getRequestURI().startsWith("/api/");
  }

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    long declared = request.getContentLengthLong();
    if (declared > maxBytes) {
      tooLarge(response);
      return;
    }
    if (declared >= 0) {
      chain.doFilter(request, response);
      return;
    }
    // no length given (chunked): read at most one byte past the limit
    byte[] body =
        request.getInputStream().readNBytes((int) Math.min(maxBytes + 1, Integer.MAX_VALUE));
    if (body.length > maxBytes) {
      tooLarge(response);
      return;
    }
    chain.doFilter(new Buffered(request, body), response);
  }

  private void tooLarge(HttpServletResponse response) throws IOException {
    response.setStatus(413);
    response.setContentType("application/problem+json");
    response.setHeader("Connection", "close");
    response
        .getWriter()
        .write(
            "{\"type\":\"https://shepherd.dev/problems/payload-too-large\",\"title\":\"Payload too"
                + " large\",\"status\":413,\"detail\":\"the request body is larger than "
                + maxBytes
                + " bytes\"}");
  }

  /** A request whose body was read already. */
  private static final class Buffered extends HttpServletRequestWrapper {

    private final byte[] body;

    Buffered(HttpServletRequest request, byte[] body) {
      super(request);
      this.body = body;
    }

    @Override
    public int getContentLength() {
      return body.length;
    }

    @Override
    public long getContentLengthLong() {
      return body.length;
    }

    @Override
    public ServletInputStream getInputStream() {
      ByteArrayInputStream in = new ByteArrayInputStream(body);
      return new ServletInputStream() {
        @Override
        public int read() {
          return in.read();
        }

        @Override
        public int read(byte[] b, int off, int len) {
          return in.read(b, off, len);
        }

        @Override
        public boolean isFinished() {
          return in.available() == 0;
        }

        @Override
        public boolean isReady() {
          return true;
        }

        @Override
        public void setReadListener(ReadListener listener) {
          throw new UnsupportedOperationException("the body was read already");
        }
      };
    }

    @Override
    public BufferedReader getReader() {
      return new BufferedReader(
          new InputStreamReader(new ByteArrayInputStream(body), StandardCharsets.UTF_8));
    }
  }
}
