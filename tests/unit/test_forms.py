"""Contact forms found on pages in the styles seen in the wild, and the forms that must never be
used, each with its reason (promise 10 in docs/DESIGN.md)."""

from __future__ import annotations

import pytest

from shared.discovery import forms

PAGE = "https://www.greenleaf-studio.com/contact/"

CF7 = """<div class="wpcf7 no-js" id="wpcf7-f12-p34-o1" lang="en-US" dir="ltr">
<form action="/contact/#wpcf7-f12-p34-o1" method="post" class="wpcf7-form init" aria-label="Contact form" novalidate="novalidate">
<div style="display: none;">
<input type="hidden" name="_wpcf7" value="12" /><input type="hidden" name="_wpcf7_version" value="5.9.5" />
<input type="hidden" name="_wpcf7_locale" value="en_US" /><input type="hidden" name="_wpcf7_unit_tag" value="wpcf7-f12-p34-o1" />
<input type="hidden" name="_wpcf7_container_post" value="34" /><input type="hidden" name="_wpnonce" value="a1b2c3d4e5" />
</div>
<p><label> Your name<br /><span class="wpcf7-form-control-wrap" data-name="your-name"><input size="40" maxlength="400"
 class="wpcf7-form-control wpcf7-text wpcf7-validates-as-required" aria-required="true" value="" type="text" name="your-name" /></span></label></p>
<p><label> Your email<br /><span class="wpcf7-form-control-wrap" data-name="your-email"><input size="40" maxlength="400"
 class="wpcf7-form-control wpcf7-email wpcf7-validates-as-required" aria-required="true" type="email" name="your-email" /></span></label></p>
<p><label> Subject<br /><input type="text" name="your-subject" maxlength="400" /></label></p>
<p><label> Your message (optional)<br /><textarea cols="40" rows="10" maxlength="2000" name="your-message"></textarea></label></p>
<p><input class="wpcf7-form-control wpcf7-submit has-spinner" type="submit" value="Submit" /></p>
<div class="wpcf7-response-output" aria-hidden="true"></div></form></div>"""


def page(form: str, extra: str = "") -> str:
    return f"<html><head>{extra}</head><body><h1>Contact us</h1>{form}</body></html>"


def test_contact_form_7_is_read_with_every_field_and_its_role():
    (form,) = forms.find(page(CF7), PAGE)
    assert form.refusal is None
    assert (form.action, form.method, form.enctype) == (PAGE, "post", "application/x-www-form-urlencoded")
    assert form.roles == {
        "name": "your-name",
        "email": "your-email",
        "subject": "your-subject",
        "message": "your-message",
    }
    hidden = {f.name: f.value for f in form.fields if f.kind == "hidden"}
    assert hidden["_wpcf7"] == "12" and hidden["_wpnonce"] == "a1b2c3d4e5"
    by_name = {f.name: f for f in form.fields}
    assert by_name["your-name"].required and by_name["your-name"].maxlength == 400
    assert by_name["your-message"].maxlength == 2000 and not by_name["your-message"].required
    assert by_name["your-email"].label == "Your email"


def test_a_plain_form_with_labels_by_id_and_a_select():
    html = """<form action="/send.php" method="POST"><label for="n">Nombre</label><input id="n" name="f1" required>
    <label for="m">Correo electrónico</label><input id="m" name="f2"><label for="t">Teléfono</label><input id="t" name="f3">
    <select name="motivo"><option value="a">Clases</option><option>Otros</option></select>
    <label for="x">Mensaje</label><textarea id="x" name="f4"></textarea><button>Enviar</button></form>"""
    (form,) = forms.find(page(html), PAGE)
    assert form.refusal is None and form.action == "https://www.greenleaf-studio.com/send.php"
    assert form.roles == {"name": "f1", "email": "f2", "phone": "f3", "message": "f4"}
    assert {f.name: f.options for f in form.fields}["motivo"] == ["a", "Otros"]


@pytest.mark.parametrize(
    ("html", "extra", "reason"),
    [
        (
            CF7.replace("</form>", '<div class="g-recaptcha" data-sitekey="x"></div></form>'),
            "",
            "a CAPTCHA protects it",
        ),
        (CF7.replace("</form>", '<div class="h-captcha"></div></form>'), "", "a CAPTCHA protects it"),
        (CF7.replace("</form>", '<div class="cf-turnstile"></div></form>'), "", "a CAPTCHA protects it"),
        (CF7.replace("</form>", '<input name="captcha_answer"></form>'), "", "a CAPTCHA protects it"),
        (
            CF7,
            '<script src="https://www.google.com/recaptcha/api.js?render=abc"></script>',
            "a CAPTCHA protects the page",
        ),
        (
            CF7.replace(
                'action="/contact/#wpcf7-f12-p34-o1"', 'action="https://forms.example-crm.com/submit"'
            ),
            "",
            "it posts to another site",
        ),
        (
            CF7.replace('action="/contact/#wpcf7-f12-p34-o1"', 'action="http://10.0.0.5/submit"'),
            "",
            "it posts to another site",
        ),
        (
            CF7.replace('action="/contact/#wpcf7-f12-p34-o1"', 'action="javascript:void(0)"'),
            "",
            "it needs JavaScript to submit",
        ),
        (
            CF7.replace(
                '<input class="wpcf7-form-control wpcf7-submit has-spinner" type="submit" value="Submit" />',
                "",
            ),
            "",
            "it has no submit button",
        ),
        (CF7.replace('method="post"', 'method="get"'), "", "it does not post"),
        (
            CF7.replace("</form>", '<input type="file" name="cv" required></form>'),
            "",
            "it requires a file upload",
        ),
    ],
)
def test_forms_that_are_never_used_say_why(html, extra, reason):
    (form,) = forms.find(page(html, extra), PAGE)
    assert form.refusal is not None and form.refusal.startswith(reason)


@pytest.mark.parametrize(
    "notice",
    [
        "Please, no sales or marketing inquiries.",
        "We do not accept unsolicited commercial offers.",
        "No aceptamos ofertas comerciales por este formulario.",
        "Keine Werbung! Werbeanfragen sind unerwünscht.",
        "Pas de démarchage commercial, merci.",
        "Não aceitamos publicidade.",
        "Non accettiamo proposte commerciali.",
    ],
)
def test_a_no_solicitation_notice_refuses_the_form(notice):
    (form,) = forms.find(page(f"<p>{notice}</p>{CF7}"), PAGE)
    assert form.refusal == "the site says it accepts no sales or marketing messages"


@pytest.mark.parametrize(
    "html",
    [
        '<form action="/" method="get"><input type="search" name="s"><button>Search</button></form>',
        '<form method="post"><input name="user"><input type="password" name="pwd"><textarea name="m"></textarea><button>Go</button></form>',
        '<form method="post" action="/subscribe"><input type="email" name="email"><button>Subscribe</button></form>',
        '<form id="commentform" action="/wp-comments-post.php" method="post"><input name="author"><input name="email">'
        '<textarea name="comment"></textarea><input type="submit"></form>',
        '<form method="post"><input name="name"><input name="card_number"><textarea name="notes"></textarea><button>Pay</button></form>',
    ],
)
def test_search_login_newsletter_comment_and_checkout_forms_are_not_contact_forms(html):
    assert forms.find(page(html), PAGE) == []


def test_hostile_forms_stay_bounded():
    many_fields = (
        "<form method=post>"
        + "".join(f'<input name="f{i}">' for i in range(500))
        + "<textarea name=m></textarea><button>x</button></form>"
    )
    (form,) = forms.find(page(many_fields), PAGE)
    assert form.refusal == f"more than {forms.MAX_FIELDS} fields" and form.fields == []
    options = "".join(f"<option>o{i}</option>" for i in range(100_000))
    huge = CF7.replace("</form>", f'<select name="where">{options}</select></form>')
    (form,) = forms.find(page(huge), PAGE)
    assert len({f.name: f for f in form.fields}["where"].options) == forms.MAX_OPTIONS
    assert forms.find("", PAGE) == [] and forms.find("<<<>>>\x00", PAGE) == []
    assert len(forms.find(page(CF7 * 50), PAGE)) == forms.MAX_FORMS
