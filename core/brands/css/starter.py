"""The starter template the Branding page offers: the pop-up's two selectors, explained."""

from __future__ import annotations

__all__ = ["STARTER_TEMPLATE"]

STARTER_TEMPLATE = """\
/* Brand styles for the 2FA pop-up of the custom webmail login page.
   #login-form .box-inner .modal       styles the pop-up itself: its box, the
                                       instruction, the code field, the buttons
                                       and the status line.
   #login-form .box-inner .modalheader styles the header band at the top of
                                       the pop-up, which shows the brand name.
   Keep text readable: WCAG AA asks for a contrast of at least 4.5:1. */

#login-form .box-inner .modal {
  background-color: #ffffff;
  color: #1f2933;
  border: 1px solid #c4cdd5;
  border-radius: 8px;
}

#login-form .box-inner .modalheader {
  background-color: #0b3d91;
  color: #ffffff;
  font-weight: bold;
  padding: 12px 16px;
}
"""
