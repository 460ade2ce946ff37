// The little of markdown-it (the renderer of VS Code's Markdown preview) the tests use; it ships no types.
declare module 'markdown-it' {
  interface Options {
    html?: boolean;
    linkify?: boolean;
  }
  export default class MarkdownIt {
    constructor(options?: Options);
    render(source: string): string;
  }
}
