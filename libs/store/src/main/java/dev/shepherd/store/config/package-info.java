/** Spring wiring of the job store for the services that embed it. */
package dev.shepherd.store.config;
