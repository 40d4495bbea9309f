package dev.shepherd.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's {@code chromium} driven by its {@code chromedriver}, headless, for the browser tests
 * (issue 19). When either is missing it is installed with apt-get; when that fails the test fails
 * and says which package is missing: a browser test never skips.
 */
final class Chromium {

  static final Path BROWSER = Path.of("/usr/bin/chromium");
  static final Path DRIVER = Path.of("/usr/bin/chromedriver");

  private Chromium() {}

  /** Installs {@code chromium} and {@code chromium-driver} when missing; fails if it cannot. */
  static void requireInstalled() {
    List<String> missing = missingPackages();
    if (missing.isEmpty()) {
      return;
    }
    List<String> command = new ArrayList<>(List.of("apt-get", "install", "-y", "-q"));
    command.addAll(missing);
    String output;
    int exit;
    try {
      Process update =
          new ProcessBuilder("apt-get", "update", "-q").redirectErrorStream(true).start();
      update.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
      update.waitFor(10, TimeUnit.MINUTES);
      Process install = new ProcessBuilder(command).redirectErrorStream(true).start();
      output = new String(install.getInputStream().readAllBytes());
      if (!install.waitFor(15, TimeUnit.MINUTES)) {
        install.destroyForcibly();
        throw new AssertionError("installing " + missing + " took more than 15 minutes");
      }
      exit = install.exitValue();
    } catch (IOException e) {
      throw new AssertionError(
          "the browser test needs the Debian packages "
              + missing
              + " and could not run apt-get to install them: "
              + e.getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while installing " + missing, e);
    }
    List<String> still = missingPackages();
    if (exit != 0 || !still.isEmpty()) {
      throw new AssertionError(
          "the browser test needs the Debian packages "
              + still
              + " ("
              + BROWSER
              + ", "
              + DRIVER
              + "); `"
              + String.join(" ", command)
              + "` exited "
              + exit
              + ":\n"
              + output.lines().skip(Math.max(0, output.lines().count() - 15)).toList());
    }
  }

  private static List<String> missingPackages() {
    List<String> missing = new ArrayList<>();
    if (!Files.isExecutable(BROWSER)) {
      missing.add("chromium");
    }
    if (!Files.isExecutable(DRIVER)) {
      missing.add("chromium-driver");
    }
    return missing;
  }

  /** A headless browser with a profile of its own, in {@code profile}. */
  static ChromeDriver start(Path profile) {
    requireInstalled();
    ChromeOptions options = new ChromeOptions();
    options.setBinary(BROWSER.toFile());
    options.addArguments(
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--user-data-dir=" + profile.toAbsolutePath());
    ChromeDriverService service =
        new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).build();
    return new ChromeDriver(service, options);
  }
}
