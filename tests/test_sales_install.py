"""The installable sale app: the manifest, the icons and where the app starts."""

import io

from PIL import Image


def test_the_manifest_describes_an_installable_app(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["start_url"] == "/sell"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#1d1d1f"
    icons = {(icon["sizes"], icon["purpose"]): icon["src"] for icon in manifest["icons"]}
    assert set(icons) == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    for (sizes, _purpose), src in icons.items():
        with client.get(src) as image:
            assert image.status_code == 200 and image.mimetype == "image/png"
            width = int(sizes.split("x")[0])
            assert Image.open(_bytes(image)).size == (width, width)


def _bytes(response) -> io.BytesIO:
    return io.BytesIO(response.get_data())


def test_the_root_icons_are_real_images(client):
    favicon = client.get("/favicon.ico")
    assert favicon.mimetype == "image/vnd.microsoft.icon"
    assert Image.open(_bytes(favicon)).format == "ICO"
    touch = client.get("/apple-touch-icon.png")
    assert Image.open(_bytes(touch)).size == (180, 180)


def test_every_page_links_the_manifest_and_icons(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert 'rel="apple-touch-icon" href="/apple-touch-icon.png"' in page
    assert '<meta name="theme-color" content="#1d1d1f">' in page


def test_the_app_starts_at_the_members_sale_list(client, login_as, member, make_group):
    assert "/login" in client.get("/sell").headers["Location"]
    login_as(member)
    response = client.get("/sell")
    assert response.status_code == 200
    assert "Sell at a stall" in response.get_data(as_text=True)
    assert "No current or coming events." in response.get_data(as_text=True)


def test_a_member_of_several_groups_chooses_one(client, login_as, make_user, uk, make_group):
    other = make_group(slug="nyc", name="CWO (NYC)", currency="USD")
    login_as(make_user(groups={uk: "member", other: "organiser"}))
    page = client.get("/sell").get_data(as_text=True)
    assert "/groups/uk/sell" in page and "/groups/nyc/sell" in page
