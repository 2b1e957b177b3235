import PointNamespace
import VolumeModel

/// The page a browser gets: one folder of the point, with breadcrumbs, each entry's size and
/// time, a download link per file and zip and tar links per folder. Plain HTML with a little
/// inline CSS and no script; every name goes through `WebText.escaped` and every link
/// through `WebText.href`.
enum BrowserPage {
    /// The Content-Security-Policy of the page: nothing loads, nothing runs, no form posts,
    /// no framing; only the page's own inline style applies.
    static let contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

    static func html(point: String, folder: PointTree.Item, children: [PointTree.Child], reasons: [FileName: String]) -> String {
        let title = WebText.escaped(folder.path)
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
            <title>\(title) \u{2014} rpfs</title>
            <style>
            body{font:15px/1.4 system-ui,sans-serif;margin:2em;color:#222}
            table{border-collapse:collapse;min-width:60%}
            th,td{text-align:left;padding:.25em .8em;border-bottom:1px solid #ddd}
            td.n{text-align:right;font-variant-numeric:tabular-nums}
            .why{color:#a33}
            nav{margin-bottom:1em}
            </style></head><body>
            <nav>\(breadcrumbs(point: point, folder.components))</nav>

            """
        html += "<p>Download this folder as <a href=\"\(WebText.href("zip", folder.components, collection: false))\">zip</a>"
            + " or <a href=\"\(WebText.href("tar", folder.components, collection: false))\">tar</a></p>\n"
        html += "<table><thead><tr><th>Name</th><th>Size</th><th>Modified (UTC)</th><th></th></tr></thead><tbody>\n"
        for child in children {
            let name = WebText.escaped(child.name)
            let attributes = child.item.attributes
            let modified = WebText.escaped(WebText.isoDate(attributes.modified.seconds))
            switch attributes.kind {
            case .directory:
                let browse = WebText.href("browse", child.item.components, collection: true)
                if let reason = reasons[child.name] {
                    html += "<tr><td>\(name)/</td><td></td><td></td><td class=\"why\">\(WebText.escaped(reason))</td></tr>\n"
                } else {
                    html += "<tr><td><a href=\"\(browse)\">\(name)/</a></td><td></td><td>\(modified)</td>"
                        + "<td><a href=\"\(WebText.href("zip", child.item.components, collection: false))\">zip</a> "
                        + "<a href=\"\(WebText.href("tar", child.item.components, collection: false))\">tar</a></td></tr>\n"
                }
            case .regular:
                let file = WebText.href("dav", child.item.components, collection: false)
                html += "<tr><td><a href=\"\(file)?download\">\(name)</a></td><td class=\"n\">\(attributes.size)</td>"
                    + "<td>\(modified)</td><td><a href=\"\(file)?download\">download</a></td></tr>\n"
            default:
                html += "<tr><td>\(name)</td><td></td><td>\(modified)</td><td>\(attributes.kind.rawValue) (in the tar of its folder)</td></tr>\n"
            }
        }
        html += "</tbody></table>\n</body></html>\n"
        return html
    }

    /// "point / disk0 / part1 / etc", each a link but the last.
    private static func breadcrumbs(point: String, _ components: [FileName]) -> String {
        var crumbs = ["<a href=\"/\">\(WebText.escaped(point))</a>"]
        for index in components.indices {
            let name = WebText.escaped(components[index])
            crumbs.append(index == components.count - 1 ? name
                : "<a href=\"\(WebText.href("browse", Array(components[...index]), collection: true))\">\(name)</a>")
        }
        return crumbs.joined(separator: " / ")
    }
}
