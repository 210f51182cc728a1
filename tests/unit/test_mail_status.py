"""Enhanced status codes: found in the text around them, and whose fault each says."""

from shared.core import mail_status
from shared.core.mail_status import Status


def test_the_first_enhanced_code_is_found_and_an_ip_address_is_not_one():
    assert mail_status.find("5.7.26 This mail has been blocked") == Status(5, 7, 26)
    assert mail_status.find("550-5.7.515 Access denied") == Status(5, 7, 515)
    assert mail_status.find("Access denied, banned sending IP [192.0.2.1]") is None
    assert mail_status.find("client 1.2.3 refused") is None  # no such class
    assert mail_status.find("No such user here") is None
    assert mail_status.find("Message rejected 5.7.1.") == Status(5, 7, 1)  # a sentence's period


def test_whose_fault_a_status_says():
    assert Status(5, 1, 1).address and not Status(5, 1, 1).policy
    assert Status(5, 2, 1).address and not Status(5, 2, 2).address
    assert not Status(5, 1, 8).address and not Status(5, 1, 7).address  # the sender's own address
    assert Status(5, 1, 10).address  # null MX
    assert Status(5, 7, 515).policy and not Status(5, 7, 515).address
    assert Status(5, 0, 0).unspecific
