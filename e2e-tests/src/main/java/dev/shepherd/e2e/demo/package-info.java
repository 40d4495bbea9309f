/** {@code make demo}: a cluster on this machine, 200 demo jobs, a live progress line, a summary. */
package dev.shepherd.e2e.demo;
