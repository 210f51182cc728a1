"""Contact extraction cases that need no website: punctuation around addresses, obfuscations,
false positives, phone regions."""

# ruff: noqa: RUF001 (full-width digits and punctuation are what some of these cases are about)

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.discovery import contacts, emails, phones, structured, summary


def emails_of(text: str) -> list[str]:
    return contacts.extract(f"<html><body><p>{text}</p></body></html>", "https://studio.com/").emails


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Write to classes0@sunriseyoga.studio.", ["classes0@sunriseyoga.studio"]),
        ("Mail (info@studio.co.uk), or call.", ["info@studio.co.uk"]),
        ("a@b.com, c@d-e.org; f@g.io!", ["a@b.com", "c@d-e.org", "f@g.io"]),
        ("maria [at] sunriseyoga [dot] studio", ["maria@sunriseyoga.studio"]),
        ("maria (at) sunriseyoga (dot) studio", ["maria@sunriseyoga.studio"]),
        ("MARIA [AT] SunriseYoga [DOT] Studio", ["maria@sunriseyoga.studio"]),
        ("maria{at}sunriseyoga{dot}studio", ["maria@sunriseyoga.studio"]),
        ("maria [ at ] sunriseyoga [ dot ] studio", ["maria@sunriseyoga.studio"]),
        ("maria at sunriseyoga [dot] studio", ["maria@sunriseyoga.studio"]),
        # Split across elements: the text nodes are joined with spaces, then collapsed.
        ("maria <b>[at]</b>\n\t sunriseyoga <i>[dot]</i> studio", ["maria@sunriseyoga.studio"]),
        ("maria\tat\tsunriseyoga (dot) studio", ["maria@sunriseyoga.studio"]),
        ("meet us at the studio [dot] com", []),
        ("INFO@STUDIO.COM and info@studio.com", ["info@studio.com"]),
        ("logo@2x.png banner@3x.jpg", []),
        ("your@email.com name@domain.com john.doe@example.com", []),
        ("1f2a3b4c5d6e7f8090a1b2c3d4e5f607@sentry.wixpress.com", []),
        ("user@host.notarealtld", []),
        ("we meet at 5 at the studio", []),
    ],
)
def test_email_cases(text, expected):
    assert emails_of(text) == expected


def test_mailto_with_query_and_encoding():
    html = '<a href="mailto:Ana%2ERuiz@Studio.com?subject=Hi&cc=x@y.com">write</a>'
    assert contacts.extract(html, "https://studio.com/").emails[0] == "ana.ruiz@studio.com"


def test_link_schemes_in_any_case():
    html = '<a href="MAILTO:desk@studio.com">write</a> <a href="Tel:+34 912 345 678">call</a>'
    found = contacts.extract(html, "https://studio.es/")
    assert found.emails == ["desk@studio.com"] and found.phones == ["+34912345678"]


def test_phone_after_a_plus_or_a_digit_is_not_cut_out_of_a_longer_number():
    found = contacts.extract("<p>ref 1234567890123456789 and +34 912 345 678</p>", "https://studio.es/")
    assert found.phones == ["+34912345678"]


def test_plus_apart_from_the_digits_is_not_a_country_code():
    assert contacts.extract("<p>Tel + 912 345 678</p>", "https://studio.es/").phones == ["+34912345678"]


def test_page_summary_keeps_the_metadata_of_a_page_without_main_text():
    html = '<html><head><title>Sunrise Yoga</title><meta name="description" content="Classes"></head></html>'
    assert summary.page_summary(html, "https://sunriseyoga.studio/") == {
        "title": "Sunrise Yoga",
        "description": "Classes",
        "site_name": "sunriseyoga.studio",
        "text": "",
    }


@pytest.mark.parametrize(
    ("url", "language", "text", "expected"),
    [
        ("https://studio.es/", None, "Llámanos al 912 345 678", "+34912345678"),
        ("https://studio.com/", "es-MX", "Tel. 55 1234 5678", "+525512345678"),
        ("https://studio.co.uk/", None, "Call 020 7946 0321", "+442079460321"),
        ("https://studio.com/", None, "Call (305) 674-1234", "+13056741234"),
    ],
)
def test_phone_region(url, language, text, expected):
    assert expected in contacts.extract(f"<p>{text}</p>", url, language).phones


def test_broken_json_ld_is_ignored():
    html = '<script type="application/ld+json">{"email": "a@b.com",</script><p>c@d.com</p>'
    assert contacts.extract(html, "https://d.com/").emails == ["c@d.com"]


# The phone pattern is written for speed; this is what it means.
PLAIN_PHONE = re.compile(r"(?<![\d+])\+?+\d(?:[ ().\-]{0,3}+\d){6,14}+(?!\d)")  # never across a line


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="0123456789+ ()-.\n", max_size=40))
def test_phone_pattern_finds_what_the_plain_pattern_finds(text):
    spans = [m.span() for m in phones.PHONE.finditer(text)]
    assert spans == [m.span() for m in PLAIN_PHONE.finditer(text)]


@pytest.mark.parametrize(
    "href",
    [
        "tel:+34912345678",
        "tel:/+34912345678",
        "tel://+34 912 345 678",
        "TEL:+34-912-345-678",
        "Phone:+34912345678",
        "phone://+34912345678",
        "telephone:+34912345678",
        "callto:+34912345678",
        "CallTo://+34912345678",
        "tel:%2B34912345678",
        "tel:&#43;34&#32;912&#32;345&#32;678",
    ],
)
def test_every_phone_link_scheme(href):
    page = f'<html><body><a href="{href}">Llámenos</a></body></html>'
    assert contacts.extract(page, "https://estudio.com/").phones == ["+34912345678"]


@pytest.mark.parametrize(
    "href",
    [
        "mailto:&#105;&#110;&#102;&#111;@estudio-pilates.com",  # WordPress antispambot(), decimal
        "mailto:&#x69;nfo&#64;estudio-pilates&#46;com",  # hex entities
        "mailto:info%40estudio-pilates.com",
    ],
)
def test_encoded_mailto_links(href):
    page = f'<html><body><a href="{href}">Escríbanos</a></body></html>'
    assert contacts.extract(page, "https://estudio.com/").emails == ["info@estudio-pilates.com"]


def test_json_ld_lists_of_phones_and_emails():
    data = (
        '{"@context": "https://schema.org", "@type": "LocalBusiness", "name": "Estudio Retiro",'
        ' "telephone": ["+34 912 345 678", "tel:+34600123456"],'
        ' "email": ["hola@estudio-retiro.es", "mailto:reservas@estudio-retiro.es"]}'
    )
    page = f'<html><head><script type="application/ld+json">{data}</script></head><body></body></html>'
    found = contacts.extract(page, "https://estudio-retiro.es/")
    assert sorted(found.phones) == ["+34600123456", "+34912345678"]
    assert sorted(found.emails) == ["hola@estudio-retiro.es", "reservas@estudio-retiro.es"]


def phones_of(text: str, url: str = "https://studio.com/") -> list[str]:
    return contacts.extract(f"<html><body><p>{text}</p></body></html>", url).phones


@pytest.mark.parametrize(
    "text",
    [
        "Updated 2019-03-04 09:30 by the team",  # a date and time
        "Published 2020/11/15 14:45",
        "doi: 10.1016/04158823.2019.554411",  # a DOI
        "Order AB7025550183 shipped",  # digits glued to letters
        "session 8f4a7025550183c2e1",  # a hex id
        "ref 7025550183x",
        "call 702(5550183 now",  # a bracket left open
    ],
)
def test_things_that_are_not_phones(text):
    assert phones_of(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Call (702) 555-0183 today", ["+17025550183"]),
        ("Tel. 702-555-0183 / 702-555-0199", ["+17025550183", "+17025550199"]),
        ("Teléfono: ( 34 ) 912 345 678", []),  # no plus: read in the page's region (US), invalid
        ("Reservas: +34 912 345 678.", ["+34912345678"]),
    ],
)
def test_phones_as_people_write_them(text, expected):
    assert phones_of(text) == expected


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        # The usual US footer: a postal code ends one paragraph, the phone starts the next.
        ("<p>1901 Lemur Ave, San Jose, CA 95125</p><p>(408) 555-0183</p>", ["+14085550183"]),
        ("<address>San Jose, CA 95125<br>(408) 555-0183</address>", ["+14085550183"]),
        ("<ul><li>912 345 678</li><li>600 123 456</li></ul>", ["+34912345678", "+34600123456"]),
        ("<table><tr><td>28013</td><td>912 345 678</td></tr></table>", ["+34912345678"]),
        # Inline elements and the page's own line breaks do not split a number.
        ("<p>Tel. <b>912</b> 345\n678</p>", ["+34912345678"]),
    ],
)
def test_block_elements_separate_numbers(html, expected):
    url = "https://estudio.es/" if "912" in html else "https://studio.com/"
    assert contacts.extract(f"<html><body>{html}</body></html>", url).phones == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sunnyvale, CA 94086 (408) 714-1489", ["+14087141489"]),  # one line: postal code, then phone
        ("Ship to 33101 305-674-1234", ["+13056741234"]),
        ("National: 8 (800) 555-55-55", []),  # not grouped as a US number
    ],
)
def test_a_number_after_another_group_on_one_line(text, expected):
    assert phones_of(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail &lt;at&gt; studio &lt;dot&gt; com", ["mail@studio.com"]),
        ("Escríbanos: ventas (arroba) estudio (punto) es", ["ventas@estudio.es"]),
        ("Email sam at greenleaf-landscaping dot com for a quote", ["sam@greenleaf-landscaping.com"]),
        ("Write to maria at studio dot co dot uk", ["maria@studio.co.uk"]),
        ("We meet at noon dot com, then lunch", []),  # no word of mail or writing before it
        ("Contact us at the studio dot zzzz", []),  # no such top-level domain
    ],
)
def test_more_obfuscations(text, expected):
    assert emails_of(text) == expected


def test_microdata_and_rdfa_values():
    page = (
        '<html><body><div itemscope itemtype="https://schema.org/LocalBusiness">'
        '<meta itemprop="telephone" content="+34 983 878 011">'
        '<meta content="reservas@bodega-ejemplo.es" itemprop="email">'
        '<div vocab="https://schema.org/" typeof="Winery"><div property="telephone" content="+34659843463"></div>'
        "</div></div></body></html>"
    )
    found = contacts.extract(page, "https://bodega-ejemplo.es/")
    assert sorted(found.phones) == ["+34659843463", "+34983878011"]
    assert found.emails == ["reservas@bodega-ejemplo.es"]


@pytest.mark.parametrize(
    "head",
    [
        '<html lang="en-GB"><head></head>',
        '<html><head><meta property="og:locale" content="en_GB"></head>',
        '<html><head><script type="application/ld+json">{"@type": "Dentist", "address":'
        ' {"@type": "PostalAddress", "addressCountry": "GB"}}</script></head>',
        '<html><head><script type="application/ld+json">{"address": {"addressCountry":'
        ' {"@type": "Country", "name": "UK"}}}</script></head>',
        '<html><head><link rel="alternate" hreflang="es-ES" href="https://manchester-dental.com/es/">'
        '<link rel="alternate" hreflang="en-GB" href="https://manchester-dental.com/"></head>',
        '<html><head><link rel=alternate hreflang=en-gb href="/"></head>',
    ],
)
def test_the_page_says_which_country_its_national_numbers_are_from(head):
    page = f"{head}<body><p>Call 0161 496 0742</p></body></html>"
    assert contacts.extract(page, "https://manchester-dental.com/").phones == ["+441614960742"]


def test_only_the_hreflang_of_the_page_itself_counts():
    head = '<html><head><link rel="alternate" hreflang="en-GB" href="https://manchester-dental.com/uk/">'
    page = f"{head}</head><body><p>Call 0161 496 0742</p></body></html>"
    assert contacts.extract(page, "https://manchester-dental.com/").phones == []


def test_without_a_signal_the_domain_and_then_the_language_decide():
    page = "<html><body><p>Llame al 912 345 678</p></body></html>"
    assert contacts.extract(page, "https://estudio.es/").phones == ["+34912345678"]
    assert contacts.extract(page, "https://estudio.com/", "es").phones == ["+34912345678"]
    assert contacts.extract(page, "https://estudio.com/").phones == []
    assert contacts.extract(page, "https://estudio.com/", None, "Europe/Madrid").phones == ["+34912345678"]
    assert contacts.extract(page, "https://estudio.com/", None, "UTC").phones == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("m a i l [at] s t u d i o [dot] c o m bar", ["mail@studio.com"]),
        ("write: h o l a (at) e s t u d i o (dot) e s", ["hola@estudio.es"]),
        ("A B C at the studio", []),
    ],
)
def test_letters_spaced_out(text, expected):
    assert emails_of(text) == expected


LOCALS = st.sampled_from(["maria", "info", "a.b", "x+y", "ventas", "email", "test"])
DOMAINS = st.sampled_from(
    [
        "studio.com",
        "co.uk",
        "studio.co.uk",
        "example.com",
        "site.test",
        "foo.zzzz",
        "com",
        "estudio.es",
        "logo.png",
    ]
)
WRAPS = st.sampled_from(["{}", "mailto:{}", "({})", "{}.", "<b>{}</b>", "{} ", "[{}]"])


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(LOCALS, DOMAINS, WRAPS, st.sampled_from(["@", " [at] ", " (at) "])), max_size=6),
    st.text(max_size=40),
)
def test_extraction_keeps_to_its_address_rules(parts, noise):
    text = noise.join(wrap.format(local + at + domain) for local, domain, wrap, at in parts)
    for page in (f"<html><body><p>{text}</p></body></html>", f'<a href="mailto:{text[:200]}">x</a>'):
        found = contacts.extract(page, "https://studio.com/").emails
        for address in found:
            local, _, domain = address.rpartition("@")
            assert local.isascii() and local not in emails.PLACEHOLDER_LOCALS, address
            assert emails.registered_domain(domain) is not None, address  # never co.uk, com or .zzzz
            assert domain not in emails.PLACEHOLDER_DOMAINS and not domain.endswith((".test", ".png")), (
                address
            )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Reach us: info@studio.com- or by phone", ["info@studio.com"]),  # a dash after the address
        ("info@studio.com-shop.net", ["info@studio.com-shop.net"]),  # a domain that goes on
    ],
)
def test_a_dash_after_an_address(text, expected):
    assert emails_of(text) == expected


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("TVA : 443 061 841", "https://studio.fr/"),  # a French company id that is also a valid number
        ("SIREN 443 061 841", "https://studio.fr/"),
        ("ISBN 978 3 16 148410 0", "https://studio.com/"),
        ("Order no. 702 555 0183", "https://studio.com/"),
        ("Tracking: 7025550183", "https://studio.com/"),
        ("Pedido nº 912 345 678", "https://estudio.es/"),
        ("CIF B12345678", "https://estudio.es/"),
        ("40.416775, -3.703790", "https://estudio.es/"),  # coordinates
        ("Madrid 28013, Spain", "https://estudio.es/"),  # a postal code
    ],
)
def test_labelled_numbers_that_are_not_phones(text, url):
    assert phones_of(text, url) == []


def test_a_phone_label_next_to_another_number_still_counts():
    assert phones_of("CIF B12345678 · Tel. 912 345 678", "https://estudio.es/") == ["+34912345678"]


@pytest.mark.parametrize(
    ("text", "url", "expected"),
    [
        ("Phone no. 702 555 0183", "https://studio.com/", ["+17025550183"]),
        ("Ocean Drive, tel 305-674-1234", "https://studio.com/", ["+13056741234"]),
        ("Ivan: 912 345 678", "https://estudio.es/", ["+34912345678"]),
        ("Rufen Sie an, ein Anruf genügt: 030 1234567", "https://studio.de/", ["+49301234567"]),
    ],
)
def test_words_that_only_look_like_labels(text, url, expected):
    assert phones_of(text, url) == expected


def found_in(html: str, url: str = "https://estudio.es/") -> contacts.Contacts:
    return contacts.extract(f"<html><body>{html}</body></html>", url)


# 1. Numbers in messaging links: full international numbers without their plus.
@pytest.mark.parametrize(
    ("href", "number", "kind"),
    [
        ("https://wa.me/34612345678", "+34612345678", "whatsapp"),
        ("https://wa.me/34612345678?text=Hola%2C%20quiero%20cita", "+34612345678", "whatsapp"),
        ("https://wa.me/+34612345678/", "+34612345678", "whatsapp"),
        ("https://api.whatsapp.com/send?phone=34612345678&amp;text=Hola", "+34612345678", "whatsapp"),
        (
            "https://api.whatsapp.com/send/?text=Hola&amp;phone=%2B34612345678&amp;type=phone_number",
            "+34612345678",
            "whatsapp",
        ),
        ("https://web.whatsapp.com/send?phone=573001234567", "+573001234567", "whatsapp"),
        ("whatsapp://send?phone=5491145678901", "+5491145678901", "whatsapp"),
        ("viber://chat?number=%2B380501234567", "+380501234567", "viber"),
        ("https:\\/\\/wa.me\\/34612345678", "+34612345678", "whatsapp"),  # escaped, as in JSON
        ("https:\\/\\/api.whatsapp.com\\/send?phone=34612345678", "+34612345678", "whatsapp"),
        ("viber://chat?number=34612345678", "+34612345678", "viber"),
        # Mexican links keep the mobile "1" that numbers lost in 2019.
        ("https://api.whatsapp.com/send?phone=5215587654321", "+525587654321", "whatsapp"),
    ],
)
def test_numbers_in_messaging_links(href, number, kind):
    found = found_in(f'<a href="{href}" class="wa-float"><svg></svg></a>')
    assert found.phones == [number] and found.phone_kinds == {number: kind}


@pytest.mark.parametrize(
    "href",
    [
        "https://wa.me/message/IHWB7QWQ6TBUH1",  # a WhatsApp Business short link: no number in it
        "https://wa.me/",
        "https://api.whatsapp.com/send?text=Mira%20esta%20oferta",  # a share link
        "https://wa.me/12345",
    ],
)
def test_messaging_links_without_a_number(href):
    assert found_in(f'<a href="{href}">WhatsApp</a>').phones == []


def test_the_joinchat_plugins_number():
    settings = "{&quot;telephone&quot;:&quot;573104567890&quot;,&quot;mobile_only&quot;:false}"
    page = f'<div class="joinchat joinchat--right" data-settings="{settings}" hidden></div>'
    assert found_in(page).phone_kinds == {"+573104567890": "whatsapp"}
    assert found_in(f'<div class="other" data-settings="{settings}"></div>').phones == []


def test_the_click_to_chat_plugins_number():
    script = '<script id="ht_ctc_app_js-js-extra">var ht_ctc_chat_var = {"number":"5541998765432","pre_filled":""};</script>'
    assert found_in(script).phone_kinds == {"+5541998765432": "whatsapp"}
    settings = "{&quot;number&quot;:&quot;34612345678&quot;,&quot;pre_filled&quot;:&quot;Hola&quot;}"
    div = f'<div class="ht_ctc_chat_data" data-settings="{settings}"></div>'
    assert found_in(div).phone_kinds == {"+34612345678": "whatsapp"}


def test_a_number_both_written_and_linked_to_whatsapp_is_a_whatsapp_number():
    found = found_in('<p>Móvil: 612 345 678</p><a href="https://wa.me/34612345678">WhatsApp</a>')
    assert found.phones == ["+34612345678"] and found.phone_kinds == {"+34612345678": "whatsapp"}


def test_a_mexican_mobile_written_with_its_old_1():
    found = found_in("<p>WhatsApp: +52 1 55 8765 4321</p>", "https://taqueria.mx/")
    assert found.phone_kinds == {"+525587654321": "whatsapp"}


def test_a_number_labelled_whatsapp_in_text():
    found = found_in("<p>Tel. 915 234 567 · WhatsApp: 612 345 678</p>")
    assert found.phone_kinds == {"+34915234567": "text", "+34612345678": "whatsapp"}


def test_how_each_number_was_given():
    page = (
        '<a href="tel:+34915234567">Llamar</a>'
        '<script type="application/ld+json">{"@type": "Dentist", "telephone": "+34 915 234 568"}</script>'
        "<p>Urgencias: 915 234 569</p>"
    )
    assert found_in(page).phone_kinds == {
        "+34915234567": "link",
        "+34915234568": "data",
        "+34915234569": "text",
    }


# 2. Data in JSON script blocks.
NEXT_DATA = (
    '<div id="__next"></div><script id="__NEXT_DATA__" type="application/json">'
    '{"props":{"pageProps":{"clinic":{"name":"Clínica Sonrisa","contact":{"email":"citas@clinicasonrisa.es",'
    '"phone":"915 234 567","fax":"915 234 568"},"colegiado":"28004512","reviews":1287,'
    '"description":"Llame al 915 234 599 o escriba a hola@clinicasonrisa.es"}}},"buildId":"k3Jd8"}</script>'
)


def test_next_data_keyed_values():
    found = found_in(NEXT_DATA)
    # Never free text: the number and address inside the description are not taken, nor the fax.
    assert found.emails == ["citas@clinicasonrisa.es"] and found.phones == ["+34915234567"]
    assert found.phone_kinds == {"+34915234567": "data"}


@pytest.mark.parametrize("key", ["teléfono", "telefone", "phoneNumber", "contact_phone", "mobile", "tel"])
def test_keys_that_name_a_phone(key):
    page = f'<script type="application/json">{{"{key}": "915 234 567", "id": "915234568"}}</script>'
    assert found_in(page).phones == ["+34915234567"]


def test_nuxt2_state_in_code():
    page = (
        '<div id="__nuxt"></div><script>window.__NUXT__=(function(a,b){return {layout:"default",'
        'data:[{studio:{kontakt:{email:"hallo@yogaraum-berlin.de",telefon:"030 44712345",fax:"030 44712346"},'
        'info:"Ruf an: 030 44712399",ts:1712345678901,id:"8a7f6e5d4c3b2a19"}}],error:a}}(null,true));</script>'
    )
    found = found_in(page, "https://yogaraum-berlin.de/")
    assert found.emails == ["hallo@yogaraum-berlin.de"] and found.phones == ["+493044712345"]


def test_nuxt3_data_whole_values():
    page = (
        '<div id="__nuxt"></div><script type="application/json" id="__NUXT_DATA__">'
        '[["ShallowReactive",1],{"data":2},{"email":3,"phone":4,"siret":5,"zip":6},'
        '"bonjour@atelier-lumiere.fr","+33 1 43 55 21 90","852 147 963 00018","75011","2024-05-01"]</script>'
    )
    found = found_in(page, "https://atelier-lumiere.fr/")
    assert found.emails == ["bonjour@atelier-lumiere.fr"] and found.phones == ["+33143552190"]


def test_state_assigned_as_json_and_links_in_data():
    page = (
        '<script>window.__INITIAL_STATE__ = {"shop": {"links": ["mailto:pedidos@tienda.es",'
        ' "https://wa.me/34612345678", "tel:+34915234567"], "code": "1234567890"}};</script>'
    )
    found = found_in(page)
    assert found.emails == ["pedidos@tienda.es"]
    assert found.phone_kinds == {"+34612345678": "whatsapp", "+34915234567": "link"}


def test_next_app_router_pushed_payload():
    payload = (
        '5:[\\"$\\",\\"footer\\",null,{\\"email\\":\\"info@estudio.es\\",\\"phone\\":\\"+34 915 234 567\\"}]'
    )
    page = f'<script>self.__next_f.push([1,"{payload}"])</script>'
    found = found_in(page)
    assert found.emails == ["info@estudio.es"] and found.phones == ["+34915234567"]


def test_minified_code_gives_no_free_text():
    code = (
        'var a="Call 915 234 567 now",b=9152345670,c="x@y",d={id:"915234567"};function f(){return 612345678}'
    )
    assert found_in(f"<script>window.__NUXT__=0;{code}</script>").phones == []
    assert found_in(f"<script>{code}</script>").phones == []  # no framework state: not read at all


@pytest.mark.parametrize(
    "block",
    [
        '<script type="application/json">' + "[" * 5000 + "]" * 5000 + "</script>",  # deep
        '<script type="application/json">' + '{"k": "v"},' * 50000 + "</script>",  # large, not JSON
        "<script>window.__NUXT__=" + "{a:" * 3000 + "</script>",
        "<script type='application/json'>{\"phone\": 34915234567}<script>",  # never closed
    ],
)
def test_hostile_data_blocks_are_bounded(block):
    found = found_in(block)
    assert found.emails == [] and found.phones in ([], ["+34915234567"])


def test_a_json_block_cut_short_is_read_by_its_keyed_values():
    page = '<script type="application/json">{"email": "hola@estudio.es", "note": "ana@estu</script>'
    assert found_in(page).emails == ["hola@estudio.es"]


def test_script_blocks_scan_stops_at_an_unclosed_script():
    html = "<p>x</p>" + "<script>" * 20000
    assert structured.script_blocks(html) == []


def test_a_page_drawn_by_its_scripts_is_marked():
    shell = '<html><head><script src="/static/js/main.js"></script></head><body><div id="root"></div></body></html>'
    found = contacts.extract(shell, "https://brightsmile.com/")
    assert found.rendered_by_javascript and found.emails == [] and found.phones == []
    page = "<html><body><p>" + "Yoga by the ocean. " * 20 + "</p><script>track()</script></body></html>"
    assert not contacts.extract(page, "https://studio.com/").rendered_by_javascript


# 3. Full-width digits and punctuation (Japan, China).
@pytest.mark.parametrize(
    ("text", "url", "expected"),
    [
        ("ＴＥＬ：０３－１２３４－５６７８", "https://shika.jp/", ["+81312345678"]),
        ("TEL：０３－１２３４－５６７８", "https://shika.jp/", ["+81312345678"]),
        ("TEL03-1234-5678", "https://shika.jp/", ["+81312345678"]),
        ("TEL.０６－６１２３－４５６７", "https://seitai.jp/", ["+81661234567"]),
        ("Hotel.0612345678", "https://seitai.jp/", []),
        ("電話：（０３）１２３４－５６７８", "https://shika.jp/", ["+81312345678"]),
        ("お問い合わせ　０９０－１２３４－５６７８", "https://shika.jp/", ["+819012345678"]),
        ("＋８１　３－１２３４－５６７８", "https://shika.com/", ["+81312345678"]),
        ("电话：０１０－６５８１２３４５", "https://chaguan.cn/", ["+861065812345"]),
        ("〒１００－０００１　東京都千代田区", "https://shika.jp/", []),  # a postal code
        ("ＦＡＸ：０３－１２３４－５６７９", "https://shika.jp/", []),
        ("ファックス ０３－１２３４－５６７９", "https://shika.jp/", []),
    ],
)
def test_full_width_numbers(text, url, expected):
    assert phones_of(text, url) == expected


def test_a_japanese_page_without_a_region_reads_japanese_numbers():
    page = '<html lang="ja"><body><p>ＴＥＬ：０３－１２３４－５６７８</p><p>info＠sakura-shika.com</p></body></html>'
    found = contacts.extract(page, "https://sakura-shika.com/")
    assert found.phones == ["+81312345678"] and found.emails == ["info@sakura-shika.com"]


@pytest.mark.parametrize("label", ["お問い合わせ", "問い合わせ", "会社概要", "联系我们", "Contáctanos"])
def test_contact_links_in_other_scripts(label):
    html = f'<html><body><a href="/page-7/">{label}</a><a href="/blog/">Blog</a></body></html>'
    assert contacts.contact_links(html, "https://shika.jp/", 3) == ["https://shika.jp/page-7/"]


# 4. German switchboard writing, and numbers that are not phones.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Telefon: 089 / 12 34 56-0", ["+49891234560"]),
        ("Tel.: 089/123456-0", ["+49891234560"]),
        ("Tel. 089 / 12 34 56 - 0", ["+49891234560"]),
        ("Durchwahl: 089 / 12 34 56-21", ["+498912345621"]),
        ("Tel. +49 (0) 89 / 15 79 02-0", ["+49891579020"]),
        ("Fon 030/2541230", ["+49302541230"]),
        ("Telefon (089) 12 34 56-0", ["+49891234560"]),
        ("Telefax: 089 / 12 34 56-99", []),
        ("Tel./Fax: 089 / 12 34 56-0", ["+49891234560"]),
        ("Amtsgericht München, HRB 234567", []),
        ("USt-IdNr.: DE 123 456 789", []),
        ("Steuernummer: 143/123/45678", []),
        ("IBAN: DE89 7015 0000 1004 2178 93", []),
        ("IBAN DE89370400440532013000 BIC COBADEFFXXX", []),
        ("Stand: 01.03.2025, Seite 1/12", []),
        ("Öffnungszeiten 09/2024 bis 03/2025", []),
    ],
)
def test_german_switchboard_numbers(text, expected):
    assert phones_of(text, "https://kanzlei-mueller.de/") == expected


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("KvK 30123456", "https://bakkerij.nl/"),
        ("BTW NL812345678B01", "https://bakkerij.nl/"),
        ("BTW-nummer: NL 8123.45.678.B01", "https://bakkerij.nl/"),
        ("IBAN NL91 ABNA 0417 1643 00", "https://bakkerij.nl/"),
        ("P.IVA 01234567890", "https://trattoria.it/"),
        ("Partita IVA: 02345678901", "https://trattoria.it/"),
        ("REA MI-1234567", "https://trattoria.it/"),
        ("SIRET 123 456 789 00012", "https://atelier.fr/"),
        ("RCS Paris 443 061 841", "https://atelier.fr/"),
        ("C.F. 0612345678", "https://trattoria.it/"),
        ("Company No. 07025550183", "https://studio.co.uk/"),
        ("CUIT 30-71234567-9", "https://pasteleria.com.ar/"),
        ("RUC 20123456789", "https://cafe.pe/"),
        ("NIT 900.123.456-7", "https://cafe.com.co/"),
        ("Fax: (305) 674-1299", "https://studio.com/"),
    ],
)
def test_more_numbers_that_are_not_phones(text, url):
    assert phones_of(text, url) == []


def test_two_numbers_with_a_slash_between_stay_two():
    assert phones_of("Tel. 702-555-0183 / 702-555-0199") == ["+17025550183", "+17025550199"]


# Pages in the layouts of real sites, one per class and its false positives.
LAYOUTS = Path(__file__).resolve().parents[2] / "local" / "fixture_site" / "layouts"


@pytest.mark.parametrize(
    "page", json.loads((LAYOUTS / "expected.json").read_text())["pages"], ids=lambda p: p["file"]
)
def test_layout_pages(page):
    found = contacts.extract((LAYOUTS / page["file"]).read_text(), page["url"])
    assert found.emails == page["emails"]
    assert sorted(found.phones) == sorted(page["phones"])  # and none of page["not_read"]
    assert {n: found.phone_kinds[n] for n in page.get("phone_kinds", {})} == page.get("phone_kinds", {})
    assert found.rendered_by_javascript == page.get("rendered_by_javascript", found.rendered_by_javascript)
