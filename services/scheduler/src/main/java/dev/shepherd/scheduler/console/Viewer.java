package dev.shepherd.scheduler.console;

/**
 * Who looks at a page, as far as the page needs to know: what to offer, and the CSRF token its
 * forms carry.
 *
 * @param name the caller's principal
 * @param signedIn whether the caller signed in with a key (so the page offers to sign out)
 * @param seesEveryTenant whether the caller reaches every tenant's jobs (tenant {@code *}): the
 *     installation-wide counts are theirs only
 * @param admin whether the caller is an administrator (workers, ordering keys, fencing tokens)
 * @param csrfParameter the form field that carries the CSRF token
 * @param csrfToken the CSRF token of this response
 */
public record Viewer(
    String name,
    boolean signedIn,
    boolean seesEveryTenant,
    boolean admin,
    String csrfParameter,
    String csrfToken) {

  /** The hidden field that makes a console form's POST acceptable. */
  String csrfField() {
    return csrfParameter == null
        ? ""
        : "<input type=\"hidden\" name=\""
            + Html.text(csrfParameter)
            + "\" value=\""
            + Html.text(csrfToken)
            + "\">";
  }
}
