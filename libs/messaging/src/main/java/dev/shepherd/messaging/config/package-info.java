/** Spring wiring of this library for the services that embed it. */
package dev.shepherd.messaging.config;
