/**
 * The {@code kubernetes-job} distributor (ADR 46): each attempt of a type configured for it is one
 * {@code batch/v1} Job, created and followed by the worker that claimed the attempt ({@link
 * dev.shepherd.distribution.kubernetes.KubernetesJobDistributor}). The Job's name comes from the
 * attempt ({@code JobNames}), its settings from the type's configuration ({@code JobSettings}), and
 * its outcome from its status and its pod's ({@code JobStatuses}).
 */
package dev.shepherd.distribution.kubernetes;
