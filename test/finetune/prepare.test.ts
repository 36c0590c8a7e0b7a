// The LibreOffice help pairing of `tslm data prepare zh-en` on hand-written pages: paragraphs with
// the same id="par_id..." pair up; nested tags are removed and entities decoded.
import { describe, expect, it } from "vitest";
import { htmlText, parIds } from "../../src/finetune/prepare.js";

describe("zh-en pairing", () => {
  it("extracts par_id elements with nested tags and entities", () => {
    const en = '<p id="par_id1" class="paragraph"><a name="x"></a>Choose <span class="emph">Insert - Chart</span> &amp; click <b>OK</b>.</p><td id="par_id2"><p>nested <p>deep</p> text</p></td><h1 id="hd_id3">Title</h1>';
    const m = parIds(en);
    expect([...m]).toEqual([["par_id1", "Choose Insert - Chart & click OK."], ["par_id2", "nested deep text"]]);
    expect(htmlText("a&lt;b&gt;&#20013;&#x6587;&nbsp;c")).toBe("a<b>中文 c");
    const zh = parIds('<p id="par_id1">选择「<span>插入 - 图表</span>」并单击<b>确定</b>。</p>');
    expect(zh.get("par_id1")).toBe("选择「插入 - 图表」并单击确定。");
  });
});
