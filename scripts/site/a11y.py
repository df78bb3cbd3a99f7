"""Accessibility fixes to the theme's markup that must be in the HTML itself (so they hold
before any script runs, and for every checker)."""

SEARCH_DIALOG = '<div class="md-search" data-md-component="search" role="dialog">'


def name_search_dialog(html: str) -> str:
    """Material's search overlay is a dialog without an accessible name (axe and Lighthouse:
    aria-dialog-name); name it after what it is."""
    return html.replace(SEARCH_DIALOG, SEARCH_DIALOG[:-1] + ' aria-label="Search">')
