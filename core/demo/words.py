"""The demo's words: brand, company and person names, domains' endings, device labels, login CSS.

Plain data and two small helpers; every choice among them is made by the caller's
``random.Random``, so the same seed picks the same words.
"""

from __future__ import annotations

import random

# The demo operators' display names, by username (``core.demo.credentials.DEMO_OPERATORS``).
OPERATOR_NAMES = {
    "admin": "Alex Admin",
    "support": "Sam Support",
    "manager": "Morgan Manager",
    "analyst": "Ana Analyst",
}

APP_PASSWORD_LABELS = (
    "iPhone Mail",
    "Outlook on laptop",
    "Thunderbird",
    "Android Mail",
    "iPad Mail",
    "Work desktop",
    "Home PC",
    "Mac Mail",
    "Scanner",
    "Calendar sync",
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


BRAND_WORDS = _words(
    "Northwind Bluebird Silverline Harbor Maple Summit Cedar Aurora Granite Lighthouse Meadow "
    "Riverbend Skylark Evergreen Copperleaf Starling Willow Redwood Bayside Highland Pinecrest "
    "Seabreeze Sunrise Oakridge Ironbark Kestrel Lakeside Moonstone Nimbus Orchard Pebble Quartz "
    "Rosewood Saffron Tidewater Upland Valley Westwind Yellowstone Zephyr Amber Beacon Cobalt "
    "Driftwood Emerald Falcon Glacier Hazel Indigo Juniper Kingfisher Lantern Marigold Nightjar "
    "Opal Peregrine Ridgeline Sandpiper Thistle Umber Vantage Wren Alder Birchwood Clearwater "
    "Dovecote Elmstead Foxglove"
)
BRAND_MIDDLES = ("", "Cloud ", "Secure ", "Pro ", "Net ", "Digital ", "Business ")
BRAND_SUFFIXES = (
    "Mail",
    "Webmail",
    "Post",
    "Mailbox",
    "Inbox",
    "Messaging",
    "Courier",
    "Connect",
    "Mail Hosting",
    "Office Mail",
    "Letters",
    "Email",
)
COMPANY_WORDS = _words(
    "Acorn Alpine Anchor Apex Arbor Ash Atlas Bramble Brook Canyon Cascade Castle Chestnut Cliff "
    "Clover Coastal Comet Coral Crescent Crown Delta Dune Eagle Echo Fern Fjord Forge Frontier "
    "Garnet Golden Grove Harvest Hawthorn Heron Horizon Ivy Jasper Keystone Lark Laurel Linden "
    "Lotus Magnolia Mariner Meridian Mesa Mill Monarch Mosaic Oak Olive Orbit Osprey Pacific "
    "Paragon Pioneer Prairie Raven Reef Ridge Rock Sage Sequoia Shore Sierra Spruce Stone "
    "Sterling Storm Swift Terra Timber Topaz Trident Vista Walnut Wave Willowbrook"
)
COMPANY_SECTORS = _words(
    "Logistics Dental Architects Bakery Legal Consulting Engineering Accounting Travel Studio "
    "Clinic Motors Insurance Realty Foods Printing Design Media Pharmacy Veterinary Fitness "
    "Books Builders Electric Plumbing Gardens Hotels Marine Optics Robotics Software Textiles "
    "Tutoring Vineyards Wellness Florists Catering Security Analytics Energy"
)
COMPANY_SUFFIXES = ("Ltd", "GmbH", "Inc", "LLC", "& Co", "Group", "BV", "SARL")
TLDS = ("com", "net", "org", "co.uk", "de", "nl", "fr", "io", "eu", "ch", "be", "at")
FIRST_NAMES = _words(
    "James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy "
    "Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Paul Emily Andrew "
    "Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah Timothy "
    "Stephanie Ronald Rebecca Edward Sharon Jason Laura Jeffrey Cynthia Ryan Dorothy Jacob Amy "
    "Gary Kathleen Nicholas Angela Eric Shirley Jonathan Emma Stephen Brenda Larry Pamela Justin "
    "Nicole Scott Anna Brandon Samantha Benjamin Katherine Samuel Christine Gregory Debra "
    "Alexander Rachel Patrick Carolyn Frank Janet Raymond Maria Jack Olivia Dennis Heather Jerry "
    "Helen Tyler Catherine Aaron Diane Jose Julie Adam Victoria Nathan Joyce Henry Lauren "
    "Zachary Kelly Douglas Christina Peter Ruth Kyle Joan Noah Virginia Ethan Judith Jeremy "
    "Evelyn Walter Hannah Christian Andrea Keith Megan Roger Cheryl Terry Jacqueline Austin "
    "Martha Sean Madison Gerald Teresa Carl Gloria Harold Sara Dylan Janice Arthur Ann Lawrence "
    "Kathryn Jordan Abigail Jesse Sophia Bryan Frances Billy Jean Bruce Alice Gabriel Judy Joe "
    "Isabella Logan Julia Alan Grace Juan Amber Albert Denise Willie Danielle Elijah Marilyn "
    "Wayne Beverly Randy Charlotte Vincent Natalie Mason Theresa Roy Diana Ralph Brittany Bobby "
    "Doris Russell Kayla Bradley Alexis Philip Lori Eugene Marie Lars Ingrid Sven Astrid Pierre "
    "Camille Hugo Chloe Luca Giulia Matteo Sofia Jan Eva Pieter Anouk Tomas Lena Felix Clara"
)
LAST_NAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips "
    "Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook "
    "Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward "
    "Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez "
    "Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan "
    "Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan "
    "Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant "
    "Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison "
    "Fernandez Mcdonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker "
    "Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason "
    "Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox "
    "Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan "
    "Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce Hansen Peters Santos Hart "
    "Bradley Knight Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews Ray "
    "Berry Perkins Hoffman Johnston Matthews Pena Richards Willis Carpenter Lawrence Sandoval "
    "Jensen Larsen Muller Schneider Fischer Weber Becker Bakker Visser Dubois Moreau Laurent "
    "Rossi Russo Ferrari Esposito Bianchi Novak Kowalski Nielsen Berg Lindqvist Eriksson"
)

CSS_PALETTES = (
    ("#0b3d91", "#ffffff", "#f4f7fb", "#1d2733"),
    ("#1b5e20", "#ffffff", "#f1f8e9", "#263238"),
    ("#4a148c", "#fafafa", "#f3e5f5", "#212121"),
    ("#b71c1c", "#ffffff", "#fff8f6", "#2b2b2b"),
    ("#006064", "#ffffff", "#e0f7fa", "#102027"),
    ("#e65100", "#ffffff", "#fff3e0", "#3e2723"),
    ("#263238", "#eceff1", "#ffffff", "#263238"),
)


def login_css(rng: random.Random) -> str:
    head_bg, head_fg, body_bg, body_fg = rng.choice(CSS_PALETTES)
    radius = rng.choice((0, 4, 6, 8, 12))
    return (
        "#login-form .box-inner .modalheader {\n"
        f"  background-color: {head_bg};\n"
        f"  color: {head_fg};\n"
        f"  border-radius: {radius}px {radius}px 0 0;\n"
        "}\n"
        "#login-form .box-inner .modal {\n"
        f"  background-color: {body_bg};\n"
        f"  color: {body_fg};\n"
        f"  border: 1px solid {head_bg};\n"
        "}\n"
    )


def unique_names(rng: random.Random, n: int, fixed: list[str], combos: list[str]) -> list[str]:
    """``n`` distinct names: ``fixed`` first, then shuffled ``combos``, then numbered ones."""
    pool = [c for c in combos if c not in fixed]
    rng.shuffle(pool)
    names = (fixed + pool)[:n]
    i = 2
    while len(names) < n:
        base = combos[(len(names) + i) % len(combos)]
        names.append(f"{base} {i}")
        i += 1
    return names
